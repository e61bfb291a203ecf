/**
 * Remembers recently seen message keys for a bounded time and count, so that a JetStream
 * redelivery (an ack lost in a NATS restart, an ack wait passed) or a publisher's retry is not
 * pushed to clients twice. Keys are a stream sequence or a
 * publisher's message id; the window matches the stream's duplicate window, past which the
 * stream itself would store a retry as a new message anyway.
 */
export interface DedupWindowOptions {
  /** How long a key is remembered, in ms. */
  readonly windowMs: number
  /** Most keys remembered at once; the oldest are forgotten first. */
  readonly maxKeys: number
  /** Clock, for tests. */
  readonly now?: () => number
}

export class DedupWindow {
  readonly #windowMs: number
  readonly #maxKeys: number
  readonly #now: () => number
  /** Key -> when it was first seen. A Map iterates in insertion order: oldest first. */
  readonly #seen = new Map<string, number>()

  constructor(options: DedupWindowOptions) {
    this.#windowMs = options.windowMs
    this.#maxKeys = Math.max(1, options.maxKeys)
    this.#now = options.now ?? Date.now
  }

  get size(): number {
    return this.#seen.size
  }

  /**
   * True when any of `keys` was seen inside the window (a repeat); otherwise remembers all of
   * them and returns false. Undefined keys are ignored.
   */
  seenBefore(...keys: ReadonlyArray<string | undefined>): boolean {
    const now = this.#now()
    this.#forgetOlderThan(now - this.#windowMs)
    const present = keys.filter((key): key is string => key !== undefined)
    if (present.some((key) => this.#seen.has(key))) return true
    for (const key of present) {
      this.#seen.set(key, now)
      if (this.#seen.size > this.#maxKeys) this.#seen.delete(this.#seen.keys().next().value as string)
    }
    return false
  }

  #forgetOlderThan(cutoff: number): void {
    for (const [key, at] of this.#seen) {
      if (at > cutoff) return
      this.#seen.delete(key)
    }
  }
}
