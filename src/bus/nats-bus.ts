/**
 * The NATS bus. nats.js does the wire work and reconnects; this class adds what IMService promises
 * on top (docs/reliability.md, "NATS goes down"):
 * - it never gives up: nats.js stops after 10 reconnect attempts by default and fails at once when
 *   the first connect fails, so reconnects are unlimited and the first connect is our own loop;
 * - nothing is buffered while NATS is down: nats.js would queue publishes without bound and send
 *   them after a reconnect (ghost messages), so publish refuses unless we are connected;
 * - publishes leave at one flush point (PublishOutbox): handed to nats.js together at the end of
 *   the turn, and a publish resolves once the one flush covering them is acknowledged; a durable
 *   publish once its stream acknowledged it (DurablePublisher);
 * - subjects held by the configured stream are fed from it, not from core NATS (StreamRouting).
 */
import { errors } from '@nats-io/transport-node'
import type { Msg, NatsConnection, Status, Subscription } from '@nats-io/transport-node'
import type { Bus, BusHandler, BusMessage, BusState, BusStatus, BusSubscription, PublishOptions } from './bus.js'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import { silentLogger } from '../logger.js'
import { OutageReport } from './outage-report.js'
import { StatusListeners } from './status-listeners.js'
import type { Logger } from '../logger.js'
import { DurablePublisher } from './durable-publisher.js'
import { PublishOutbox } from './publish-outbox.js'
import { headersToMap } from './headers.js'
import { dialNats, dialUntilConnected, hostPort, natsHeadersOf, parseNatsServers, withTimeout } from './nats-connect.js'
import type { DialOptions, NatsServerList } from './nats-connect.js'
import type { StreamFeedSettings } from './stream-feed.js'
import { StreamRouting } from './stream-routing.js'
import { subjectMatches, validateQueueGroup, validateSubject } from './subjects.js'
import { JetStreamVersionedStore } from './jetstream-versioned-store.js'
import type { VersionedStore } from './versioned-store.js'

/** Connection settings (`DialOptions`: name, connectTimeoutMs, reconnectWaitMs, token, user, pass) and: */
export interface NatsBusOptions extends DialOptions {
  /** One or more server URLs, comma separated; credentials in a URL are used and never shown. */
  readonly servers: string
  /** false: `createNatsBus` rejects if the first attempt fails. true: keep trying in the background. */
  readonly retryForever: boolean
  readonly logger?: Logger
  /** Bound on the flush that confirms a publish (default 5000). */
  readonly publishTimeoutMs?: number
  /** Bound on draining at close (default 5000). */
  readonly drainTimeoutMs?: number
  readonly jetstream?: NatsJetStreamOptions
  /** While NATS stays unreachable, the longest silence between two warnings, in ms (default 10 000). */
  readonly outageReportIntervalMs?: number
}

export interface NatsJetStreamOptions {
  /** Bound on waiting for the stream's acknowledgement of a durable publish (default 5000). */
  readonly publishTimeoutMs?: number
  /** Take these subjects from a stream (created or verified at connect) instead of core NATS. */
  readonly feed?: StreamFeedSettings
}

interface Entry {
  readonly subject: string
  readonly queue: string | undefined
  readonly handler: BusHandler
  active: boolean
  /** The subscription on the current connection, if any. */
  sub: Subscription | undefined
}

export class NatsBus implements Bus {
  readonly #options: NatsBusOptions
  readonly #servers: NatsServerList
  readonly #logger: Logger
  readonly #entries = new Set<Entry>()
  readonly #listeners: StatusListeners
  /** The one flush point towards NATS (publish-outbox.ts). */
  readonly #outbox: PublishOutbox
  readonly #routing: StreamRouting | undefined
  readonly #outage: OutageReport
  #nc: NatsConnection | undefined
  #durable: { readonly nc: NatsConnection; readonly publisher: DurablePublisher } | undefined
  #state: BusState = 'connecting'
  #closing = false
  #closed: Promise<void> | undefined
  #loop: Promise<void> | undefined
  /** Aborted by close(): cuts a backoff pause short. */
  readonly #stop = new AbortController()

  private constructor(options: NatsBusOptions, servers: NatsServerList) {
    this.#options = options
    this.#servers = servers
    this.#logger = options.logger ?? silentLogger
    this.#listeners = new StatusListeners(this.#logger)
    this.#outage = new OutageReport({ logger: this.#logger, servers: servers.display, intervalMs: options.outageReportIntervalMs })
    this.#outbox = new PublishOutbox({ timeoutMs: options.publishTimeoutMs ?? 5000 })
    const feed = options.jetstream?.feed
    this.#routing = feed
      ? new StreamRouting({ settings: feed, logger: this.#logger, dispatch: (message) => this.#dispatchFromStream(message), changed: () => this.#reconcile() })
      : undefined
  }

  /** The current NATS connection, for parts that use JetStream directly (offline delivery); undefined before the first connect. */
  get connection(): NatsConnection | undefined {
    return this.#closing ? undefined : this.#nc
  }

  /** Stream messages skipped as repeats (redeliveries, publisher retries) on this connection. */
  get duplicatesSkipped(): number {
    return this.#routing?.duplicatesSkipped ?? 0
  }

  /** See `createNatsBus`. */
  static async create(options: NatsBusOptions): Promise<NatsBus> {
    const servers = parseNatsServers(options.servers)
    if (!servers) throw new ImError(ImErrorCode.ConfigInvalid, 'no NATS server given')
    const bus = new NatsBus(options, servers)
    if (options.retryForever) {
      bus.#loop = bus.#connectLoop()
      return bus
    }
    try {
      bus.#adopt(await dialNats(servers, options))
    } catch (error) {
      bus.#closing = true
      bus.#state = 'closed'
      throw new ImError(ImErrorCode.BusUnavailable, `NATS not reachable at ${servers.display}: ${messageOf(error)}`, { cause: error })
    }
    return bus
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    const nc = this.#nc
    if (this.#closing || this.#state !== 'connected' || !nc) {
      return Promise.reject(new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected'))
    }
    const problem = validateSubject(subject, { wildcards: false })
    if (problem !== undefined) {
      return Promise.reject(new ImError(ImErrorCode.InvalidTopic, `cannot publish to ${JSON.stringify(subject)}: ${problem}`))
    }
    const hdrs = natsHeadersOf(options.headers)
    if (hdrs instanceof ImError) return Promise.reject(hdrs)
    if (options.durable) return this.#durablePublisher(nc).publish(subject, data, hdrs, options.msgId)
    const publishOptions = { ...(hdrs ? { headers: hdrs } : {}), ...(options.reply ? { reply: options.reply } : {}) }
    const hand = (): void => {
      try {
        nc.publish(subject, data, publishOptions)
      } catch (error) {
        throw this.#refusal(nc, data, error)
      }
    }
    if (options.confirm === false) return this.#outbox.push(hand, false)
    return this.#outbox.push(hand, true, () => nc.flush())
  }

  /**
   * Why nats.js refused a publish at hand-over: closed or draining under our feet is
   * IM_BUS_UNAVAILABLE; otherwise (too large for max_payload, headers included) IM_BUS_PUBLISH_FAILED.
   */
  #refusal(nc: NatsConnection, data: Uint8Array, error: unknown): ImError {
    if (nc.isClosed() || nc.isDraining()) return new ImError(ImErrorCode.BusUnavailable, messageOf(error), { cause: error })
    const max = nc.info?.max_payload
    const detail = max !== undefined && /max_payload/.test(messageOf(error)) ? `payload of ${data.byteLength} bytes, with its headers, is over the server's max_payload of ${max}` : messageOf(error)
    return new ImError(ImErrorCode.BusPublishFailed, detail, { cause: error })
  }

  subscribe(subject: string, handler: BusHandler, options: { queue?: string } = {}): BusSubscription {
    if (this.#closing) throw new ImError(ImErrorCode.BusUnavailable, 'the bus is closed')
    const problem = validateSubject(subject, { wildcards: true }) ?? validateQueueGroup(options.queue)
    if (problem !== undefined) {
      throw new ImError(ImErrorCode.InvalidTopic, `cannot subscribe to ${JSON.stringify(subject)}: ${problem}`)
    }
    const entry: Entry = { subject, queue: options.queue, handler, active: true, sub: undefined }
    this.#entries.add(entry)
    // While reconnecting nats.js keeps the subscription and sends it when the connection is back.
    if (this.#nc && !this.#nc.isClosed() && !this.#routing?.servedFromStream(entry)) this.#attach(this.#nc, entry)
    return {
      subject,
      unsubscribe: () => {
        entry.active = false
        this.#entries.delete(entry)
        entry.sub?.unsubscribe()
        entry.sub = undefined
      },
    }
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    const nc = this.#nc
    if (this.#closing || this.#state !== 'connected' || !nc) throw new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected')
    try {
      return (await nc.request(subject, data, { timeout: timeoutMs })).data
    } catch (error) {
      // nats.js tells "nobody subscribes" (a 503 status, as a RequestError) apart from "nobody answered in time".
      if (error instanceof errors.TimeoutError) throw new ImError(ImErrorCode.BusTimeout, `no answer on ${subject} within ${timeoutMs} ms`, { cause: error })
      if (error instanceof errors.RequestError && error.isNoResponders()) throw new ImError(ImErrorCode.BusNoResponders, `no one listens on ${subject}`, { cause: error })
      throw new ImError(ImErrorCode.BusUnavailable, `no answer on ${subject}: ${messageOf(error)}`, { cause: error })
    }
  }

  versionedStore(name: string, prefix: string, options: { readonly replicas?: number | 'auto' } = {}): VersionedStore {
    const timeoutMs = this.#options.jetstream?.publishTimeoutMs ?? 5000
    return new JetStreamVersionedStore({ stream: name, prefix, timeoutMs, replicas: options.replicas ?? 1, connection: () => (this.#state === 'connected' ? this.#nc : undefined) })
  }

  async ready(): Promise<void> {
    await this.#routing?.settled()
    const nc = this.#nc
    if (this.#state === 'connected' && nc) await nc.flush().catch(() => undefined)
  }

  status(): BusStatus {
    const current = this.#state === 'connected' ? this.#nc?.getServer() : undefined
    const server = current ? (this.#servers.urls.find((url) => hostPort(url) === current) ?? `nats://${current}`) : this.#servers.display
    return { kind: 'nats', state: this.#state, server, ...(this.#routing ? { stream: this.#routing.status() } : {}) }
  }

  onStatusChange(listener: (status: BusStatus) => void): () => void {
    return this.#listeners.add(listener)
  }

  close(): Promise<void> {
    this.#closed ??= this.#close()
    return this.#closed
  }

  async #close(): Promise<void> {
    this.#closing = true
    // What callers were told was taken goes out before the drain.
    this.#outbox.flush()
    this.#stop.abort()
    this.#outage.end()
    await this.#routing?.close()
    const nc = this.#nc
    if (nc && !nc.isClosed()) {
      if (this.#state === 'connected') {
        // Drain delivers what has arrived and flushes what we published; bounded, as a stuck
        // server must not stop a shutdown.
        const drained = await withTimeout(nc.drain(), this.#options.drainTimeoutMs ?? 5000).catch((error: unknown) => {
          this.#logger.warn('NATS drain did not complete; closing', { error })
          return false
        })
        if (drained === false || !nc.isClosed()) await nc.close().catch(() => undefined)
      } else {
        await nc.close().catch(() => undefined)
      }
    }
    await this.#loop
    this.#outbox.failAll('the bus is closed')
    for (const entry of this.#entries) entry.active = false
    this.#entries.clear()
    this.#setState('closed')
  }

  /** Tries until connected or closed; never gives up. */
  async #connectLoop(): Promise<void> {
    const nc = await dialUntilConnected(this.#servers, this.#options, this.#stop.signal, (attempt, error, waitMs) => {
      const fields = { servers: this.#servers.display, attempt, error: messageOf(error), nextAttemptInMs: Math.round(waitMs) }
      // The first failure is worth a warning; the outage report repeats it while NATS stays away.
      if (attempt === 1) this.#logger.warn('NATS not reachable; retrying', fields)
      else this.#logger.debug('NATS not reachable; retrying', fields)
      this.#outage.begin()
      this.#outage.attempted(Date.now() + waitMs, fields.error)
    })
    if (nc === undefined) return
    if (this.#closing) await nc.close().catch(() => undefined)
    else this.#adopt(nc)
  }

  #adopt(nc: NatsConnection): void {
    this.#nc = nc
    // Taken before any await so that no status event of this connection is missed.
    const statuses = nc.status()
    this.#routing?.connect(nc)
    for (const entry of this.#entries) {
      // Subscriptions of an earlier connection died with it.
      entry.sub = undefined
      if (!this.#routing?.servedFromStream(entry)) this.#attach(nc, entry)
    }
    this.#outage.end()
    this.#logger.info('NATS connected', { server: nc.getServer() })
    this.#setState('connected')
    void (async () => {
      for await (const status of statuses) {
        if (this.#nc === nc && !this.#closing) this.#onStatus(status)
      }
    })()
    void nc.closed().then((error) => this.#onClosed(nc, error))
  }

  #onStatus(status: Status): void {
    switch (status.type) {
      case 'disconnect':
        this.#logger.warn('NATS disconnected; reconnecting', { server: status.server })
        this.#outbox.failAll('NATS connection lost before the publish was confirmed')
        // nats.js tries again once its reconnect wait has passed since it last dialled this server.
        this.#outage.begin(Date.now() + (this.#options.reconnectWaitMs ?? 2000))
        this.#setState('reconnecting')
        return
      case 'reconnecting':
        // nats.js starts an attempt; the next comes once the reconnect wait has passed since this one.
        this.#outage.attempted(Date.now() + (this.#options.reconnectWaitMs ?? 2000))
        return
      case 'reconnect':
        this.#outage.end()
        this.#logger.info('NATS reconnected', { server: status.server })
        this.#setState('connected')
        return
      case 'error':
      case 'ldm':
      case 'staleConnection':
      case 'slowConsumer':
        this.#logger.warn(`NATS ${status.type}`, { detail: 'error' in status ? messageOf(status.error) : undefined })
        return
      default:
        return
    }
  }

  /** nats.js closed the connection on its own (e.g. repeated auth errors): start over. */
  #onClosed(nc: NatsConnection, error: Error | void): void {
    if (this.#nc !== nc) return
    this.#nc = undefined
    this.#outbox.failAll('NATS connection closed before the publish was confirmed')
    if (this.#closing) return
    this.#logger.warn('NATS connection closed unexpectedly; connecting again', { error: error ? messageOf(error) : undefined })
    this.#outage.begin()
    this.#setState('reconnecting')
    this.#loop = this.#connectLoop()
  }

  #attach(nc: NatsConnection, entry: Entry): void {
    entry.sub = nc.subscribe(entry.subject, {
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      callback: (error: Error | null, msg: Msg) => {
        if (error) {
          this.#logger.warn('NATS subscription error', { subject: entry.subject, error })
          return
        }
        if (!entry.active || this.#routing?.coreMessageIsDuplicate(entry, msg.subject)) return
        const message: BusMessage = { subject: msg.subject, data: msg.data, headers: headersToMap(msg.headers), ...(msg.reply ? { reply: msg.reply } : {}) }
        try {
          entry.handler(message)
        } catch (handlerError) {
          this.#logger.error('bus handler threw; the subscription goes on', { subject: msg.subject, error: handlerError })
        }
      },
    })
  }

  #durablePublisher(nc: NatsConnection): DurablePublisher {
    if (this.#durable?.nc !== nc) {
      const timeoutMs = this.#options.jetstream?.publishTimeoutMs ?? this.#options.publishTimeoutMs ?? 5000
      this.#durable = { nc, publisher: new DurablePublisher(nc, { timeoutMs }) }
    }
    return this.#durable.publisher
  }

  /** Stream messages go to every subscription without a queue group whose subject matches. */
  #dispatchFromStream(message: BusMessage): Promise<unknown> | undefined {
    const running: Promise<unknown>[] = []
    for (const entry of this.#entries) {
      if (!entry.active || entry.queue !== undefined || !subjectMatches(entry.subject, message.subject)) continue
      try {
        const result = entry.handler(message)
        if (result instanceof Promise) running.push(result)
      } catch (error) {
        this.#logger.error('bus handler threw; the subscription goes on', { subject: message.subject, error })
      }
    }
    return running.length > 0 ? Promise.allSettled(running) : undefined
  }

  /** The stream's subjects changed: core subscriptions for what it does not serve, none for what it does. */
  #reconcile(): void {
    const nc = this.#nc
    if (!nc || nc.isClosed() || this.#closing) return
    for (const entry of this.#entries) {
      const fromStream = this.#routing?.servedFromStream(entry) === true
      if (!fromStream && !entry.sub) this.#attach(nc, entry)
      if (fromStream && entry.sub) {
        entry.sub.unsubscribe()
        entry.sub = undefined
      }
    }
  }

  #setState(state: BusState): void {
    if (this.#state === state || this.#state === 'closed') return
    this.#state = state
    this.#listeners.notify(this.status())
  }
}

/**
 * Connects to NATS. `retryForever: false` makes one bounded attempt and rejects with
 * IM_BUS_UNAVAILABLE on failure; `retryForever: true` resolves at once in state `connecting`.
 */
export function createNatsBus(options: NatsBusOptions): Promise<NatsBus> {
  return NatsBus.create(options)
}

