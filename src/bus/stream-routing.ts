/**
 * Decides, for the NATS bus, which subscriptions are fed from the JetStream stream and which from
 * core NATS, and keeps the stream feed running on the current connection.
 *
 * A subscription without a queue group whose subject the stream holds is fed from the stream only:
 * the stream also captures core publishes on its subjects, so taking them from core too would push
 * each message twice. Queue subscriptions stay on core (a per-node consumer would hand each message
 * to every node, not one).
 *
 * A stream outage is not a delivery outage: while the stream cannot be set up, or its consumer
 * stalls, the node takes those subjects from core NATS itself (at most once, no catch-up) and goes
 * back to the stream once it has caught up; a SwitchOverLedger keeps the overlap from pushing a
 * message twice. A stream that exists but holds none of the subjects is no outage: those subjects
 * are simply core subscriptions.
 *
 * A stream conflict (IM_STREAM_CONFLICT: our stream is missing and others hold our subjects) is a
 * configuration error, not an outage: `settled()` rejects with it, which stops a node that is
 * starting; a node already serving says so at every retry, takes the subjects from core NATS and
 * reports itself not ready until it is resolved.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { isImError, ImErrorCode, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { BusMessage, StreamStatus } from './bus.js'
import { headersToMap } from './headers.js'
import { StreamFeed } from './stream-feed.js'
import type { FeedHealth, StreamFeedSettings } from './stream-feed.js'
import { subjectCovers, subjectMatches } from './subjects.js'
import { SwitchOverLedger } from './switch-over-ledger.js'

export interface RoutedSubscription {
  readonly subject: string
  readonly queue: string | undefined
}

export interface StreamRoutingOptions {
  readonly settings: StreamFeedSettings
  readonly logger: Logger
  /** Hands a stream message to the subscriptions that want it. */
  readonly dispatch: (message: BusMessage) => void | Promise<unknown>
  /** Called when the subjects held by the stream changed: attach or detach core subscriptions. */
  readonly changed: () => void
}

const RETRY_START_MS = 250
const RETRY_MAX_MS = 5000
/** After core NATS stopped serving, id-less messages from the stream are still paired this long. */
const SWITCH_OVER_MS = 10_000
const MAX_REMEMBERED = 100_000

export class StreamRouting {
  readonly #options: StreamRoutingOptions
  readonly #ledger: SwitchOverLedger
  /** Subjects served by this routing right now: from the stream, or from core while it is out. */
  #serving: readonly string[] = []
  /** True while the stream is being set up: subscriptions it may serve wait instead of going to core. */
  #pending = false
  /** Where the stream stands; `starting` until the first set-up ends. */
  #outcome: { readonly state: StreamStatus['state']; readonly reason?: string } = { state: 'starting' }
  #feed: StreamFeed | undefined
  /** Core subscriptions standing in for the stream, while it is out. */
  #core: { readonly subjects: readonly string[]; readonly subs: readonly Subscription[] } | undefined
  /** Repeats skipped by the feeds before the current one (a feed is replaced on every reconnect). */
  #skippedBefore = 0
  #settled: Promise<void> = Promise.resolve()
  #retry: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: StreamRoutingOptions) {
    this.#options = options
    this.#ledger = new SwitchOverLedger({ duplicateWindowMs: options.settings.duplicateWindowMs, switchOverMs: SWITCH_OVER_MS, maxKeys: MAX_REMEMBERED })
  }

  /** Messages skipped as repeats (redeliveries, or delivered by core NATS in a switch-over) since start. */
  get duplicatesSkipped(): number {
    return this.#skippedBefore + (this.#feed?.duplicatesSkipped ?? 0) + this.#ledger.skipped
  }

  /** Where the stream set-up stands, for readiness. */
  status(): StreamStatus {
    const name = this.#feed?.streamName ?? this.#options.settings.stream
    return this.#pending ? { name, state: 'starting' } : { name, ...this.#outcome }
  }

  /** True when the subscription must not have a core subscription now. */
  servedFromStream(entry: RoutedSubscription): boolean {
    if (entry.queue !== undefined) return false
    const subjects = this.#pending ? this.#options.settings.subjects : this.#serving
    return subjects.some((pattern) => subjectCovers(pattern, entry.subject))
  }

  /** A core message on a subject the stream holds reaches its subscribers through the stream instead. */
  coreMessageIsDuplicate(entry: RoutedSubscription, subject: string): boolean {
    return entry.queue === undefined && !this.#pending && this.#serving.some((pattern) => subjectMatches(pattern, subject))
  }

  /** Resolves once the stream set-up of the current connection has succeeded or failed. */
  settled(): Promise<void> {
    return this.#settled
  }

  /** Starts the feed on a new connection (nats.js keeps one feed across its own reconnects). */
  connect(nc: NatsConnection): void {
    this.#stopFeed()
    this.#stopCore()
    this.#serving = []
    this.#pending = true
    this.#settled = quiet(this.#start(nc, 0))
  }

  async close(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    this.#stopCore()
    await this.#feed?.stop()
  }

  async #start(nc: NatsConnection, attempt: number): Promise<void> {
    const { settings, logger } = this.#options
    const feed: StreamFeed = new StreamFeed(nc, {
      ...settings,
      logger,
      deliver: (message) => (this.#ledger.repeated('stream', message) ? undefined : this.#options.dispatch(message)),
      health: (health) => this.#onHealth(feed, health),
      catchingUp: this.#core !== undefined,
    })
    this.#skippedBefore += this.#feed?.duplicatesSkipped ?? 0
    this.#feed = feed
    try {
      const held = await feed.start()
      if (this.#feed !== feed || this.#stopped) return void (await feed.stop())
      this.#serving = held
      if (held.length === 0) {
        this.#stopCore()
        this.#outcome = { state: 'unavailable', reason: `it holds none of ${settings.subjects.join(', ')}` }
      } else if (this.#core) {
        // Core goes on until the consumer has caught up (the feed reports it as healthy then).
        this.#startCore(nc, held)
        this.#outcome = { state: 'recovering', reason: 'catching up' }
        logger.info(`JetStream stream ${feed.streamName} is usable again; ${held.join(', ')} come from it once this node's consumer has caught up`)
      } else {
        this.#outcome = { state: 'ready' }
      }
    } catch (error) {
      if (this.#feed !== feed || this.#stopped) return
      const wait = Math.min(RETRY_MAX_MS, RETRY_START_MS * 2 ** Math.min(attempt, 10))
      const reason = messageOf(error)
      const conflict = isImError(error, ImErrorCode.StreamConflict)
      // Said once per outage (and when the reason changes); the retries themselves are debug. A
      // conflict is said at every retry: it lasts until an operator acts.
      const log = conflict || attempt === 0 || this.#outcome.reason !== reason ? logger.error : logger.debug
      log.call(
        logger,
        conflict
          ? `${reason}\n(A node that is starting stops here. One already serving takes ${settings.subjects.join(', ')} from core NATS meanwhile ` +
              `(at most once, no catch-up), reports itself not ready, and checks again in ${Math.round(wait / 1000)} s.)`
          : `JetStream stream ${settings.stream} cannot be used: ${reason}. Taking ${settings.subjects.join(', ')} from core NATS ` +
              `(at most once, no catch-up) until it can; trying again in ${wait} ms, then with backoff up to ${RETRY_MAX_MS} ms`,
      )
      this.#serving = settings.subjects
      this.#startCore(nc, settings.subjects)
      this.#outcome = { state: 'unavailable', reason }
      this.#retry = setTimeout(() => {
        if (this.#feed === feed && !this.#stopped && !nc.isClosed()) this.#settled = quiet(this.#start(nc, attempt + 1))
      }, wait)
      this.#retry.unref()
      if (conflict) throw error
    } finally {
      if (this.#feed === feed) {
        this.#pending = false
        this.#options.changed()
      }
    }
  }

  #onHealth(feed: StreamFeed, health: FeedHealth): void {
    if (this.#feed !== feed || this.#stopped || feed.nc.isClosed()) return
    const { settings, logger } = this.#options
    if (health.healthy) {
      this.#stopCore()
      this.#outcome = { state: 'ready' }
      logger.info(`JetStream stream ${settings.stream} delivers again: ${this.#serving.join(', ')} come from it, no longer from core NATS`)
      return
    }
    this.#outcome = { state: 'recovering', reason: health.reason }
    this.#startCore(feed.nc, this.#serving)
    logger.warn(`Taking ${this.#serving.join(', ')} from core NATS (deduplicated against the stream) while JetStream stream ${settings.stream} does not deliver: ${health.reason}`)
  }

  /** Core subscriptions on `subjects` whose messages go through the ledger to the subscribers. */
  #startCore(nc: NatsConnection, subjects: readonly string[]): void {
    if (this.#core && this.#core.subjects.join(',') === subjects.join(',')) return
    this.#stopCore()
    const subs = subjects.map((subject) =>
      nc.subscribe(subject, {
        callback: (error, msg) => {
          if (error) return void this.#options.logger.warn('NATS subscription error', { subject, error })
          const message: BusMessage = { subject: msg.subject, data: msg.data, ...(msg.headers ? { headers: headersToMap(msg.headers) } : {}) }
          if (this.#ledger.repeated('core', message)) return
          try {
            void Promise.resolve(this.#options.dispatch(message)).catch(() => undefined)
          } catch (handlerError) {
            this.#options.logger.error('bus handler threw; the subscription goes on', { subject: msg.subject, error: handlerError })
          }
        },
      }),
    )
    this.#core = { subjects, subs }
    this.#ledger.coreServing(true)
  }

  #stopCore(): void {
    if (!this.#core) return
    for (const sub of this.#core.subs) {
      try {
        sub.unsubscribe()
      } catch {
        // The connection is closed already: its subscriptions went with it.
      }
    }
    this.#core = undefined
    this.#ledger.coreServing(false)
  }

  #stopFeed(): void {
    clearTimeout(this.#retry)
    void this.#feed?.stop()
    this.#skippedBefore += this.#feed?.duplicatesSkipped ?? 0
    this.#feed = undefined
  }
}

/** The same promise, marked handled: only `settled()` callers see a rejection. */
function quiet(promise: Promise<void>): Promise<void> {
  promise.catch(() => undefined)
  return promise
}

