/**
 * Remembered answers, bounded in count and in age, with one question in flight per key: callers
 * asking what is already being asked wait for the same answer instead of asking again.
 */
export interface AnswerCacheOptions {
  /** How long an answer is reused, in ms; 0 keeps none (questions in flight are still shared). */
  readonly ttlMs: number
  /** Answers kept at most; the oldest is dropped first. */
  readonly maxEntries: number
  readonly now?: () => number
}

export class AnswerCache<T> {
  private readonly answers = new Map<string, { readonly value: T; readonly expiresAt: number }>()
  private readonly inFlight = new Map<string, Promise<T>>()
  private readonly now: () => number

  constructor(private readonly options: AnswerCacheOptions) {
    this.now = options.now ?? Date.now
  }

  /** The remembered answer to `key`, if it is still fresh. */
  get(key: string): T | undefined {
    const entry = this.answers.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt > this.now()) return entry.value
    this.answers.delete(key)
    return undefined
  }

  /**
   * Asks `ask` unless the same key is being asked already. Its answer is kept when `keep` says
   * so (a failure to get one is not an answer worth keeping).
   */
  ask(key: string, ask: () => Promise<T>, keep: (value: T) => boolean): Promise<T> {
    const pending = this.inFlight.get(key)
    if (pending) return pending
    const question = ask().then((value) => {
      if (keep(value)) this.remember(key, value)
      return value
    })
    this.inFlight.set(key, question)
    const forget = (): void => void this.inFlight.delete(key)
    question.then(forget, forget)
    return question
  }

  get size(): number {
    return this.answers.size
  }

  private remember(key: string, value: T): void {
    if (this.options.ttlMs <= 0) return
    this.answers.delete(key)
    // Maps iterate in insertion order: the first key is the oldest answer.
    while (this.answers.size >= this.options.maxEntries) this.answers.delete(this.answers.keys().next().value as string)
    this.answers.set(key, { value, expiresAt: this.now() + this.options.ttlMs })
  }
}
