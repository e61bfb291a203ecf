/**
 * The bound on what a client may leave unread in the server (bytes, and messages where the
 * transport counts them): past it, the connection is closed rather than the server's memory
 * growing with one slow client.
 */
import { CLOSE_ERROR_PREFIX } from '../protocol/messages.js'
import type { ServerTransport } from '../transports/transport.js'

export interface OutboundBound {
  readonly bytes: number
  readonly messages: number
}

/** How far past the bound a burst may go before the client is closed at once. */
export const HARD_BOUND_FACTOR = 8

/** Whether the transport holds more than `factor` times the bound. */
export function isPast(transport: ServerTransport, bound: OutboundBound, factor = 1): boolean {
  return transport.bufferedBytes > bound.bytes * factor || (transport.bufferedMessages ?? 0) > bound.messages * factor
}

/** The Close error a slow consumer gets. */
export function slowConsumerError(bound: OutboundBound): string {
  return `${CLOSE_ERROR_PREFIX} The client is not reading its messages: more than ${bound.bytes} bytes or ${bound.messages} messages are waiting.`
}

/**
 * One connection's watch on a client past its bound: it closes a client still past the bound one
 * sweep after it was first seen there, and closes it once.
 */
export class SlowConsumerWatch {
  private overBoundSince: number | undefined
  private tripped = false

  /** At a sweep, with whether the transport is past the bound now: true when it was already at an earlier sweep. */
  stillPast(past: boolean, now: number): boolean {
    if (!past) this.overBoundSince = undefined
    else if (this.overBoundSince === undefined) this.overBoundSince = now
    else if (now > this.overBoundSince) return true
    return false
  }

  /** True the first time only: closing writes a Close message, which must not start a second close. */
  trip(): boolean {
    if (this.tripped) return false
    return (this.tripped = true)
  }
}
