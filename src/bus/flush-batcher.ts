/**
 * Confirms publishes in bulk: every publish of one event-loop turn waits for the same flush, sent
 * on the next turn after all of them are queued, so a burst of N publishes costs one round trip
 * to the server instead of N. Each wait is bounded.
 */
import { ImError, ImErrorCode } from '../errors.js'

interface Batch {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (error: ImError) => void
}

export class FlushBatcher {
  readonly #timeoutMs: number
  readonly #inFlight = new Set<Batch>()
  #open: Batch | undefined

  constructor(options: { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs
  }

  /**
   * Resolves once a flush started after this call succeeds. `flush` is called at most once per
   * turn, by the first caller of that turn.
   */
  wait(flush: () => Promise<void>): Promise<void> {
    if (this.#open) return this.#open.promise
    let resolve!: () => void
    let reject!: (error: ImError) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    const batch: Batch = { promise, resolve, reject }
    this.#open = batch
    this.#inFlight.add(batch)
    setImmediate(() => {
      if (this.#open === batch) this.#open = undefined
      if (!this.#inFlight.has(batch)) return
      const settle = (error?: ImError): void => {
        clearTimeout(timer)
        if (!this.#inFlight.delete(batch)) return
        if (error) batch.reject(error)
        else batch.resolve()
      }
      const timer = setTimeout(
        () => settle(new ImError(ImErrorCode.BusUnavailable, `NATS did not confirm the publish within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      flush().then(
        () => settle(),
        (error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error)
          settle(new ImError(ImErrorCode.BusUnavailable, `NATS connection lost before the publish was confirmed: ${reason}`, { cause: error }))
        },
      )
    })
    return promise
  }

  /** Rejects every waiting publish at once (the connection is gone): no one waits for the timeout. */
  failAll(reason: string): void {
    this.#open = undefined
    for (const batch of this.#inFlight) batch.reject(new ImError(ImErrorCode.BusUnavailable, reason))
    this.#inFlight.clear()
  }
}
