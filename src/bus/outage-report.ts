/**
 * While NATS stays unreachable, says so at least every `intervalMs` (10 s by default) with how
 * long it has been away and when the next attempt is due. Attempts themselves log at debug level
 * (they may come every 50 ms), so without this an operator would see one warning and then
 * silence for as long as the outage lasts.
 */
import type { Logger } from '../logger.js'

export const DEFAULT_OUTAGE_REPORT_INTERVAL_MS = 10_000

export interface OutageReportOptions {
  readonly logger: Logger
  /** Servers as they may be shown (no credentials). */
  readonly servers: string
  readonly intervalMs?: number
}

export class OutageReport {
  readonly #options: OutageReportOptions
  #since: number | undefined
  #attempts = 0
  #nextAttemptAt: number | undefined
  #lastError: string | undefined
  #timer: NodeJS.Timeout | undefined

  constructor(options: OutageReportOptions) {
    this.#options = options
  }

  /**
   * NATS is away (a first connect failed, a connection was lost): reports start, if not already
   * running. `nextAttemptBy`: when the next attempt is due at the latest, where known.
   */
  begin(nextAttemptBy?: number): void {
    if (this.#timer !== undefined) return
    this.#since = Date.now()
    this.#attempts = 0
    this.#nextAttemptAt = nextAttemptBy
    this.#timer = setInterval(() => this.#report(), this.#options.intervalMs ?? DEFAULT_OUTAGE_REPORT_INTERVAL_MS)
    // A report must never keep a process alive that is otherwise done.
    this.#timer.unref()
  }

  /** An attempt failed (`error` when known); the next is due at `nextAttemptAt` (epoch ms). */
  attempted(nextAttemptAt: number, error?: string): void {
    this.#attempts++
    this.#nextAttemptAt = nextAttemptAt
    if (error !== undefined) this.#lastError = error
  }

  /** Connected again, or closed: reports stop. */
  end(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#since = undefined
    this.#nextAttemptAt = undefined
    this.#lastError = undefined
  }

  #report(): void {
    if (this.#since === undefined) return
    const now = Date.now()
    const away = `${Math.round((now - this.#since) / 1000)} s`
    const next = this.#nextAttemptAt
    const when = next === undefined || next <= now ? 'an attempt is under way' : `next attempt in ${((next - now) / 1000).toFixed(1)} s`
    this.#options.logger.warn(`NATS still not reachable after ${away}; ${when}`, {
      servers: this.#options.servers,
      attempts: this.#attempts,
      ...(next !== undefined ? { nextAttemptAt: new Date(next).toISOString() } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    })
  }
}
