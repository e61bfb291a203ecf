/**
 * Decides, for the NATS bus, which subscriptions are fed from the JetStream stream and which from
 * core NATS, and keeps the stream feed running on the current connection.
 *
 * A subscription without a queue group whose subject the stream holds is fed from the stream only:
 * the stream also captures core publishes on its subjects, so taking them from core too would push
 * each message twice. Queue subscriptions stay on core (a per-node consumer would hand each message
 * to every node, not one). When JetStream cannot be used the node says so and takes everything from
 * core NATS (at most once, no catch-up), retrying the stream in the background. A stream conflict
 * (IM_STREAM_CONFLICT: our stream is missing and others hold our subjects) is a configuration
 * error, not an outage: `settled()` rejects with it, which stops a node that is starting; a node
 * already serving says so at every retry and reports itself not ready until it is resolved.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { isImError, ImErrorCode } from '../errors.js'
import type { Logger } from '../logger.js'
import type { BusMessage, StreamStatus } from './bus.js'
import { StreamFeed } from './stream-feed.js'
import type { StreamFeedSettings } from './stream-feed.js'
import { subjectCovers, subjectMatches } from './subjects.js'

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

const RETRY_START_MS = 2000
const RETRY_MAX_MS = 60_000

export class StreamRouting {
  readonly #options: StreamRoutingOptions
  /** Subjects served from the stream right now. */
  #held: readonly string[] = []
  /** True while the stream is being set up: subscriptions it may serve wait instead of going to core. */
  #pending = false
  /** Why the last set-up failed, until one succeeds; `starting` until the first one ends. */
  #outcome: { readonly state: StreamStatus['state']; readonly reason?: string } = { state: 'starting' }
  #feed: StreamFeed | undefined
  /** Repeats skipped by the feeds before the current one (a feed is replaced on every reconnect). */
  #skippedBefore = 0
  #settled: Promise<void> = Promise.resolve()
  #retry: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: StreamRoutingOptions) {
    this.#options = options
  }

  /** Messages skipped as repeats (redeliveries) since start. */
  get duplicatesSkipped(): number {
    return this.#skippedBefore + (this.#feed?.duplicatesSkipped ?? 0)
  }

  /** Where the stream set-up stands, for readiness. */
  status(): StreamStatus {
    const name = this.#feed?.streamName ?? this.#options.settings.stream
    return this.#pending ? { name, state: 'starting' } : { name, ...this.#outcome }
  }

  /** True when the subscription must not have a core subscription now. */
  servedFromStream(entry: RoutedSubscription): boolean {
    if (entry.queue !== undefined) return false
    const subjects = this.#pending ? this.#options.settings.subjects : this.#held
    return subjects.some((pattern) => subjectCovers(pattern, entry.subject))
  }

  /** A core message on a subject the stream holds reaches its subscribers through the stream instead. */
  coreMessageIsDuplicate(entry: RoutedSubscription, subject: string): boolean {
    return entry.queue === undefined && this.#held.some((pattern) => subjectMatches(pattern, subject))
  }

  /** Resolves once the stream set-up of the current connection has succeeded or failed. */
  settled(): Promise<void> {
    return this.#settled
  }

  /** Starts the feed on a new connection (nats.js keeps one feed across its own reconnects). */
  connect(nc: NatsConnection): void {
    this.#stopFeed()
    this.#held = []
    this.#pending = true
    this.#settled = quiet(this.#start(nc, 0))
  }

  async close(): Promise<void> {
    this.#stopped = true
    clearTimeout(this.#retry)
    await this.#feed?.stop()
  }

  async #start(nc: NatsConnection, attempt: number): Promise<void> {
    const { settings, logger } = this.#options
    const feed = new StreamFeed(nc, { ...settings, logger, deliver: this.#options.dispatch })
    this.#skippedBefore += this.#feed?.duplicatesSkipped ?? 0
    this.#feed = feed
    try {
      const held = await feed.start()
      if (this.#feed !== feed || this.#stopped) return void (await feed.stop())
      this.#held = held
      this.#outcome = held.length > 0 ? { state: 'ready' } : { state: 'unavailable', reason: `it holds none of ${settings.subjects.join(', ')}` }
      if (attempt > 0) logger.info(`JetStream is usable again: ${held.join(', ')} now come from stream ${feed.streamName}`)
    } catch (error) {
      if (this.#feed !== feed || this.#stopped) return
      const wait = Math.min(RETRY_MAX_MS, RETRY_START_MS * 2 ** Math.min(attempt, 10))
      const conflict = isImError(error, ImErrorCode.StreamConflict)
      logger.error(
        conflict
          ? `${reasonOf(error)}\n(A node that is starting stops here. One already serving takes ${settings.subjects.join(', ')} from core NATS meanwhile ` +
              `(at most once, no catch-up), reports itself not ready, and checks again in ${Math.round(wait / 1000)} s.)`
          : `JetStream stream ${settings.stream} cannot be used: ${reasonOf(error)}. Taking ${settings.subjects.join(', ')} from core NATS ` +
              `(at most once, no catch-up); trying the stream again in ${Math.round(wait / 1000)} s`,
      )
      this.#held = []
      this.#outcome = { state: 'unavailable', reason: reasonOf(error) }
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

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
