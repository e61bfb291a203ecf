/**
 * Keeps one message from reaching clients twice while a node takes the stream's subjects from
 * both the stream and core NATS (the stream stalled, or is being caught up after it was back).
 * Each path asks before it delivers:
 *
 * - a message with a publisher id (`Nats-Msg-Id`, else `cap-msg-id`) is delivered by the path
 *   that sees it first; the id is remembered for the duplicate window, as long as a publisher's
 *   retry may still come. Ids from the stream are remembered at all times, since a retry may
 *   reach core NATS while the stream path is down;
 * - a message without an id is paired by a digest of its subject and bytes: a core delivery and a
 *   stream delivery of the same digest cancel out, whichever came first. Pairing runs while core
 *   NATS serves the subjects and for `switchOverMs` after it stopped, then forgets what is still
 *   unpaired. Two byte-identical id-less messages inside that time are paired like any others, so
 *   each copy the stream holds is matched at most once.
 */
import { createHash } from 'node:crypto'
import type { BusMessage } from './bus.js'
import { DedupWindow } from './dedup-window.js'

export interface SwitchOverLedgerOptions {
  /** How long ids are remembered, in ms (the stream's duplicate window). */
  readonly duplicateWindowMs: number
  /** How long id-less messages are paired after core NATS stopped serving, in ms. */
  readonly switchOverMs: number
  /** Most ids and unpaired digests kept; the oldest go first. */
  readonly maxKeys: number
  readonly now?: () => number
}

type Path = 'core' | 'stream'

export class SwitchOverLedger {
  readonly #options: SwitchOverLedgerOptions
  readonly #now: () => number
  readonly #ids: DedupWindow
  /** Digest -> unpaired deliveries per path. A Map iterates oldest first. */
  readonly #unpaired = new Map<string, { core: number; stream: number }>()
  /** Pairing runs until then; Infinity while core NATS serves. */
  #pairingUntil = 0
  /** Deliveries skipped because the other path made them. */
  skipped = 0

  constructor(options: SwitchOverLedgerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#ids = new DedupWindow({ windowMs: options.duplicateWindowMs, maxKeys: options.maxKeys, now: this.#now })
  }

  /** Core NATS starts (true) or stops (false) serving the stream's subjects. */
  coreServing(serving: boolean): void {
    this.#pairingUntil = serving ? Number.POSITIVE_INFINITY : this.#now() + this.#options.switchOverMs
  }

  /** True when the message must not be delivered: the other path did. */
  repeated(path: Path, message: BusMessage): boolean {
    const id = message.headers?.get('Nats-Msg-Id') ?? message.headers?.get('cap-msg-id')
    const repeat = id !== undefined ? this.#ids.seenBefore(`id:${id}`) : this.#pair(path, message)
    if (repeat) this.skipped++
    return repeat
  }

  #pair(path: Path, message: BusMessage): boolean {
    if (this.#now() > this.#pairingUntil) {
      this.#unpaired.clear()
      return false
    }
    const digest = createHash('sha256').update(message.subject).update('\0').update(message.data).digest('base64')
    const other: Path = path === 'core' ? 'stream' : 'core'
    const entry = this.#unpaired.get(digest) ?? { core: 0, stream: 0 }
    if (entry[other] > 0) {
      entry[other]--
      if (entry.core === 0 && entry.stream === 0) this.#unpaired.delete(digest)
      return true
    }
    entry[path]++
    this.#unpaired.set(digest, entry)
    if (this.#unpaired.size > this.#options.maxKeys) this.#unpaired.delete(this.#unpaired.keys().next().value as string)
    return false
  }
}
