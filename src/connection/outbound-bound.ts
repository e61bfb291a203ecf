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
