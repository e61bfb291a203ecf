/**
 * Hands publishes to nats.js in batches. nats.js writes its pending output in a microtask after
 * the first command, so publishes made from separate I/O callbacks (one per client message) each
 * cost a socket write of their own: in a profile of 1,000 clients invoking, those writes were the
 * node's largest cost. Queued here, they are handed over together at the end of the turn
 * (setImmediate, ahead of the flush that confirms them) and leave in one write. A publish nobody
 * waits on (a lifecycle event) may wait a little longer, up to `relaxedMs`, so that the events of
 * many connections opening and closing share a write too. Order is kept: every publish of the bus
 * goes through the same queue, and an urgent one takes the relaxed ones before it along.
 */
export class PublishCoalescer {
  #queue: Array<() => void> = []
  #immediate: NodeJS.Immediate | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(
    private readonly onError: (error: unknown) => void,
    private readonly relaxedMs = 5,
  ) {}

  /** `urgent`: someone waits for it (it goes at the end of this turn); else within `relaxedMs`. */
  push(publish: () => void, urgent = true): void {
    this.#queue.push(publish)
    if (urgent) this.#immediate ??= setImmediate(() => this.drain())
    else if (this.#immediate === undefined) this.#timer ??= setTimeout(() => this.drain(), this.relaxedMs)
  }

  /** Hands over everything queued now (also called before a flush or a close). */
  drain(): void {
    if (this.#immediate) clearImmediate(this.#immediate)
    clearTimeout(this.#timer)
    this.#immediate = this.#timer = undefined
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    for (const publish of queue) {
      try {
        publish()
      } catch (error) {
        // The connection closed in between: the confirming flush fails too, and callers hear of it.
        this.onError(error)
      }
    }
  }
}
