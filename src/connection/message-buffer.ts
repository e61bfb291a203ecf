/**
 * The bookkeeping of stateful reconnect (HubProtocol.md, Stateful Reconnect; ASP.NET Core's
 * MessageBuffer). Each side numbers the Invocation, StreamItem, Completion, StreamInvocation and
 * CancelInvocation messages it sends, 1, 2, 3...; sent frames stay buffered until the peer acks
 * them, and are replayed after a Sequence message when the transport comes back. Received
 * messages are counted the same way, so that a replayed one already processed is dropped.
 */
import { MessageType } from '../protocol/messages.js'
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

  constructor(private readonly limitBytes: number) {}

  /** Records a tracked frame being sent; false once the unacknowledged frames exceed the limit. */
  track(frame: string | Uint8Array): boolean {
    const size = typeof frame === 'string' ? frame.length : frame.byteLength
    this.buffered.push({ id: ++this.sent, frame, size })
    this.bufferedBytes += size
    return this.bufferedBytes <= this.limitBytes
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
