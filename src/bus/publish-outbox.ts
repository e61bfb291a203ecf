/**
 * The one flush point of what this node publishes to NATS. A publish is queued here; at the
 * flush point every queued publish is handed to nats.js in order, and one flush (a PING whose
 * PONG confirms everything before it) is sent for those whose callers wait for a confirmation.
 *
 * Why queue at all: nats.js writes its pending output in a microtask after the first command, so
 * publishes made from separate I/O callbacks (one per client message) would each cost a socket
 * write and, confirmed one by one, a round trip each: in a profile of 1,000 clients invoking,
 * those writes were the node's largest cost. Handed over together they leave in one write and
 * share one PING.
 *
 * When: at the end of the current turn (setImmediate) as soon as anyone waits for a
 * confirmation; a turn with only unconfirmed publishes (lifecycle events) waits up to
 * `relaxedMs`, so that the events of many connections opening and closing share a write too. A
 * confirmed publish takes the unconfirmed ones queued before it along: order is kept.
 *
 * What the caller hears: a publish nats.js refuses when handed over (too large for max_payload,
 * say) rejects with the error the hand-over threw; a confirmed publish resolves once its flush is
 * acknowledged, or rejects with IM_BUS_UNAVAILABLE when the flush fails or takes longer than
 * `timeoutMs`; an unconfirmed one resolves once handed over.
 */
import { ImError, ImErrorCode, messageOf } from '../errors.js'

export interface PublishOutboxOptions {
  /** Bound on the flush that confirms a publish. */
  readonly timeoutMs: number
  /** How long an unconfirmed publish may wait for others (default 5 ms). */
  readonly relaxedMs?: number
}

interface Queued {
  /** Hands the publish to nats.js; throws what nats.js throws. */
  readonly hand: () => void
  readonly confirm: boolean
  /** The flush that confirms it (the connection's), for a confirmed publish. */
  readonly flush: (() => Promise<void>) | undefined
  readonly resolve: () => void
  readonly reject: (error: unknown) => void
}

export class PublishOutbox {
  readonly #timeoutMs: number
  readonly #relaxedMs: number
  #queue: Queued[] = []
  #immediate: NodeJS.Immediate | undefined
  #timer: NodeJS.Timeout | undefined
  /** Confirmed publishes handed over whose flush has not answered yet, one group per flush. */
  readonly #confirming = new Set<Queued[]>()

  constructor(options: PublishOutboxOptions) {
    this.#timeoutMs = options.timeoutMs
    this.#relaxedMs = options.relaxedMs ?? 5
  }

  /**
   * Queues a publish for the flush point. `flush` confirms it (required when `confirm`); see the
   * header for when the promise settles.
   */
  push(hand: () => void, confirm: boolean, flush?: () => Promise<void>): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ hand, confirm, flush, resolve, reject })
      if (confirm) this.#immediate ??= setImmediate(() => this.flush())
      else if (this.#immediate === undefined) this.#timer ??= setTimeout(() => this.flush(), this.#relaxedMs)
    })
  }

  /** The flush point. Runs by itself (see the header); called at once before the connection drains. */
  flush(): void {
    if (this.#immediate) clearImmediate(this.#immediate)
    clearTimeout(this.#timer)
    this.#immediate = this.#timer = undefined
    const queue = this.#queue
    if (queue.length === 0) return
    this.#queue = []
    const waiting: Queued[] = []
    for (const publish of queue) {
      try {
        publish.hand()
      } catch (error) {
        publish.reject(error)
        continue
      }
      if (publish.confirm) waiting.push(publish)
      else publish.resolve()
    }
    const flush = waiting[0]?.flush
    if (flush) this.#confirm(waiting, flush)
  }

  /** Rejects every publish not yet confirmed, queued or handed over (the connection is gone): no one waits for the timeout. */
  failAll(reason: string): void {
    const error = new ImError(ImErrorCode.BusUnavailable, reason)
    const queue = this.#queue
    this.#queue = []
    for (const publish of queue) publish.reject(error)
    for (const group of this.#confirming) for (const publish of group) publish.reject(error)
    this.#confirming.clear()
  }

  #confirm(group: Queued[], flush: () => Promise<void>): void {
    this.#confirming.add(group)
    const settle = (error?: ImError): void => {
      clearTimeout(timer)
      if (!this.#confirming.delete(group)) return
      for (const publish of group) {
        if (error) publish.reject(error)
        else publish.resolve()
      }
    }
    const timer = setTimeout(() => settle(new ImError(ImErrorCode.BusUnavailable, `NATS did not confirm the publish within ${this.#timeoutMs} ms`)), this.#timeoutMs)
    flush().then(
      () => settle(),
      (error: unknown) => {
        const reason = messageOf(error)
        settle(new ImError(ImErrorCode.BusUnavailable, `NATS connection lost before the publish was confirmed: ${reason}`, { cause: error }))
      },
    )
  }
}
