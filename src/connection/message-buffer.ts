/**
 * The bookkeeping of stateful reconnect (HubProtocol.md, Stateful Reconnect; ASP.NET Core's
 * MessageBuffer). Each side numbers the Invocation, StreamItem, Completion, StreamInvocation and
 * CancelInvocation messages it sends, 1, 2, 3...; sent frames stay buffered until the peer acks
 * them, and are replayed after a Sequence message when the transport comes back. Received
 * messages are counted the same way, so that a replayed one already processed is dropped.
 */
import { MessageType } from '../protocol/messages.js'
import { overlap } from './connection-move.js'
import type { HubMessage } from '../protocol/messages.js'

const TRACKED: ReadonlySet<number> = new Set([
  MessageType.Invocation,
  MessageType.StreamItem,
  MessageType.Completion,
  MessageType.StreamInvocation,
  MessageType.CancelInvocation,
])

export function isTracked(message: HubMessage): boolean {
  return TRACKED.has(message.type)
}

interface Buffered {
  readonly id: number
  readonly frame: string | Uint8Array
  readonly size: number
  /** Serialized once for many connections (a broadcast): another node may send the same bytes. */
  readonly shared: boolean
}

/** The whole state of a buffer, to carry a connection to another node (see connection-move.ts). */
export interface BufferState {
  /** Id of the last tracked frame sent. */
  readonly sent: number
  /** The unacknowledged frames, oldest first. */
  readonly frames: ReadonlyArray<{ readonly id: number; readonly frame: string | Uint8Array; readonly shared: boolean }>
  /** Id of the last tracked message received in order. */
  readonly received: number
}

export class MessageBuffer {
  private sent = 0
  private buffered: Buffered[] = []
  private bufferedBytes = 0
  /** Id of the last tracked message received in order. */
  private received = 0
  /** Id the next tracked message received will have. */
  private receiving = 0
  private lastAckSent = 0
  /** Id of the last frame sent before an offer to move the connection away. */
  private mark: number | undefined

  constructor(private readonly limitBytes: number) {}

  /** Step 1 of a move away: remembers how far the frames have got. */
  markForMove(): void {
    this.mark = this.sent
  }

  get moveMark(): number | undefined {
    return this.mark
  }

  /**
   * A connection moving here (its ids provisional until now) gets its old node's state: those frames first, then the ones
   * collected here that the old node had not sent (the overlap: the first collected frames equal
   * to the last shared ones it sent after `mark`). False when the result passes the limit.
   */
  adopt(state: BufferState, mark: number): boolean {
    const collected = this.buffered
    this.sent = state.sent
    this.received = this.receiving = state.received
    this.buffered = []
    this.bufferedBytes = 0
    for (const { id, frame, shared } of state.frames) this.push(id, frame, shared)
    const recent = state.frames.filter((f) => f.id > mark && f.shared).map((f) => f.frame)
    let duplicates = overlap(
      recent,
      collected.filter((c) => c.shared).map((c) => c.frame),
    )
    for (const { frame, shared } of collected) {
      if (shared && duplicates > 0) duplicates--
      else this.push(++this.sent, frame, shared)
    }
    return this.bufferedBytes <= this.limitBytes
  }

  state(): BufferState {
    return { sent: this.sent, frames: this.buffered.map(({ id, frame, shared }) => ({ id, frame, shared })), received: this.received }
  }

  /** Records a tracked frame being sent; false once the unacknowledged frames exceed the limit. */
  track(frame: string | Uint8Array, shared = false): boolean {
    this.push(++this.sent, frame, shared)
    return this.bufferedBytes <= this.limitBytes
  }

  private push(id: number, frame: string | Uint8Array, shared: boolean): void {
    const size = typeof frame === 'string' ? frame.length : frame.byteLength
    this.buffered.push({ id, frame, size, shared })
    this.bufferedBytes += size
  }

  /** The peer has everything up to `sequenceId`. */
  ack(sequenceId: number): void {
    let drop = 0
    while (drop < this.buffered.length && this.buffered[drop]!.id <= sequenceId) this.bufferedBytes -= this.buffered[drop++]!.size
    if (drop > 0) this.buffered = this.buffered.slice(drop)
  }

  /** What to send on a new transport: the Sequence id, then every unacknowledged frame in order. */
  replay(): { sequenceId: number; frames: ReadonlyArray<string | Uint8Array> } {
    return { sequenceId: this.buffered[0]?.id ?? this.sent + 1, frames: this.buffered.map((b) => b.frame) }
  }

  /**
   * The peer's Sequence: the next tracked message it sends has this id. Returns false when the id
   * is beyond what we have received, which cannot be recovered.
   */
  resetReceiving(sequenceId: number): boolean {
    if (sequenceId > this.received + 1) return false
    this.receiving = sequenceId - 1
    return true
  }

  /** Counts a received tracked message; false for a duplicate already processed. */
  accept(): boolean {
    this.receiving++
    if (this.receiving <= this.received) return false
    this.received = this.receiving
    return true
  }

  /** The Ack to send now, if the peer has not been told of what we received since the last one. */
  dueAck(): number | undefined {
    if (this.received === this.lastAckSent) return undefined
    this.lastAckSent = this.received
    return this.received
  }
}
