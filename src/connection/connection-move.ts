/**
 * Moving a stateful-reconnect connection from a draining node to another one, so that a rolling
 * restart loses no message and repeats none. The draining node ends its WebSockets without a
 * Close message; each client's stateful reconnect comes back (through the load balancer) to
 * another node, which takes the connection over in two requests to the node holding it:
 *
 * 1. offer: the holder names the protocol and groups and notes how far its buffer has got (the
 *    mark); the new node starts collecting what it would deliver to the connection at once.
 * 2. take: the holder stops delivering and hands over its buffer state (unacknowledged frames,
 *    both sequence counters); the new node puts that first, then what it collected.
 *
 * Nothing is lost: one NATS server routes a message to every subscriber in the same order, and
 * each node handles its subscriptions in arrival order, so the take request reaches the holder
 * after every message the new node handled before it started collecting. Nothing is repeated: a
 * message both nodes handled is among the first frames collected and among the last the holder
 * sent after the mark; that overlap is dropped. Frames carry no id, so the overlap is found by
 * content, among the frames serialized for many connections (what both nodes can send; a
 * Completion is the holder's alone): a message byte-identical to the one before it, published
 * within the few milliseconds of a move, may reach the client once instead of twice.
 *
 * The two requests travel as control messages (src/cluster/control-messages.ts); the node asking
 * is src/cluster/connection-locator.ts with the hub endpoint, the node answering its locator.
 */
import type { ServerTransport } from '../transports/transport.js'
import type { BufferState } from './message-buffer.js'

/** Step 1's answer: what the new node needs to start collecting. */
export interface MoveOffer {
  readonly connectionId: string
  /** The hub protocol chosen in the handshake, by name. */
  readonly protocol: string
  readonly groups: readonly string[]
}

/** Step 2's answer: the connection's state, as the holder leaves it. */
export interface MoveState {
  readonly buffer: BufferState
  /** Frames with an id above this were sent after the offer: the only ones the new node may also have. */
  readonly mark: number
  /** Groups now, which a change between the two steps may have altered. */
  readonly groups: readonly string[]
  /** Server-to-client streams still open: they cannot move, so the new node ends them with an error. */
  readonly streams: readonly string[]
}

/**
 * How many of the first `collected` frames the holder already sent: the longest run at the start
 * of `collected` equal to the end of `recent` (the holder's frames after the mark).
 */
export function overlap(recent: ReadonlyArray<string | Uint8Array>, collected: ReadonlyArray<string | Uint8Array>): number {
  for (let length = Math.min(recent.length, collected.length); length > 0; length--) {
    let same = true
    for (let i = 0; i < length && same; i++) same = sameFrame(recent[recent.length - length + i]!, collected[i]!)
    if (same) return length
  }
  return 0
}

/** The transport of a connection that is moving here and has no socket yet: it takes nothing. */
export function noTransport(): ServerTransport {
  return {
    name: 'WebSockets',
    supportsBinary: true,
    bufferedBytes: 0,
    send: () => {},
    close: () => {},
    closed: Promise.resolve(),
    onMessage: undefined,
    onClose: undefined,
  }
}

function sameFrame(a: string | Uint8Array, b: string | Uint8Array): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b
  return Buffer.compare(a, b) === 0
}
