/**
 * Hands the publishes of one event-loop turn to nats.js together. nats.js writes its pending
 * output in a microtask after the first command, so publishes made from separate I/O callbacks
 * (one per client message) each cost a socket write of their own: in a profile of 1,000 clients
 * invoking, those writes were the node's largest cost. Queued here and handed over at the end of
 * the turn (setImmediate, ahead of the flush that confirms them), they leave in one write.
 * Order is kept: every publish of the bus goes through the same queue.
 */
export class PublishCoalescer {
  #queue: Array<() => void> = []
  #scheduled = false

  constructor(private readonly onError: (error: unknown) => void) {}

  push(publish: () => void): void {
    this.#queue.push(publish)
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(() => this.drain())
  }

  /** Hands over everything queued now (also called before a flush or a close). */
  drain(): void {
    this.#scheduled = false
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
