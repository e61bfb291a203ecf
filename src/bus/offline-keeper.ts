/**
 * Offline delivery's NATS side for one node (docs/reliability.md, "Offline delivery"): sets up the
 * store and the cluster's sorter on each NATS connection, reads what was kept for a user who
 * connects, and moves users' cursors. What the payloads mean is the hub's business: the keeper
 * gets a reader of recipients and hands out kept payloads as they were published.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Bus } from './bus.js'
import { NatsBus } from './nats-bus.js'
import { OfflineSorter } from './offline-sorter.js'
import { OfflineStore } from './offline-store.js'
import type { StoredMessage } from './offline-store.js'
import { chooseReplicas } from './stream-replicas.js'
import { subjectCovers } from './subjects.js'

/** The JetStream settings offline delivery reads (the node's `jetstream` configuration). */
export interface OfflineJetStreamSettings {
  /** The stream that captures the hub's user subject. */
  readonly stream?: string
  readonly duplicateWindowMs: number
  readonly replicas: number | 'auto'
  readonly offline: {
    readonly enabled: boolean
    readonly ttlMs: number
    readonly maxPerUser: number
    readonly stream: string
    readonly cursorBucket: string
  }
}

export interface OfflineKeeperOptions {
  readonly logger: Logger
  /** Who a captured payload asks to be kept for; undefined when it does not ask. */
  readonly recipients: (data: Uint8Array) => readonly string[] | undefined
}

/** The hub whose `send.user` subject offline delivery serves. */
export const OFFLINE_HUB = 'default'
/** The cluster's one sorter consumer on the capturing stream. */
export const SORTER_CONSUMER = 'im-offline-sorter'
/** How long a replay waits for the sorter to reach what this node has handled. */
const SORT_WAIT_MS = 10_000
const RETRY_MS = 5000

/**
 * This node's offline keeper, or undefined when offline delivery is off. Refuses, precisely, on
 * the embedded bus, which has no JetStream (the DefaultHub's presence is checked with the hubs).
 */
export function createOfflineKeeper(bus: Bus, jetstream: OfflineJetStreamSettings, options: OfflineKeeperOptions): OfflineKeeper | undefined {
  if (!jetstream.offline.enabled) return undefined
  if (!(bus instanceof NatsBus)) {
    throw new ImError(ImErrorCode.ConfigInvalid, 'offline delivery (IM_OFFLINE_DELIVERY) needs NATS with JetStream; this node runs on the embedded bus: set IM_NATS_URL')
  }
  return new OfflineKeeper(bus, jetstream, options, () => bus.connection)
}

export class OfflineKeeper {
  readonly #bus: Bus
  readonly #jetstream: OfflineJetStreamSettings
  readonly #options: OfflineKeeperOptions
  readonly #connection: () => NatsConnection | undefined
  /** The user's cursor target and whether a write is running, per user being written. */
  readonly #cursorWrites = new Map<string, { target: number }>()
  #nc: NatsConnection | undefined
  #store: OfflineStore | undefined
  #sorter: OfflineSorter | undefined
  /** The capturing stream's last sequence when the sorter started: what this node's feed may never have handled. */
  #backlog = 0
  #retry: NodeJS.Timeout | undefined
  #unlisten: (() => void) | undefined
  #closed = false

  constructor(bus: Bus, jetstream: OfflineJetStreamSettings, options: OfflineKeeperOptions, connection: () => NatsConnection | undefined) {
    this.#bus = bus
    this.#jetstream = jetstream
    this.#options = options
    this.#connection = connection
  }

  /** Messages this node's sorter copied into the store. */
  get sorted(): number {
    return this.#sorter?.copied ?? 0
  }

  /** Sets up the store and the sorter on each new NATS connection. */
  start(): void {
    this.#unlisten = this.#bus.onStatusChange((status) => {
      if (status.state === 'connected') this.#setUp()
    })
    this.#setUp()
  }

  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#retry)
    this.#unlisten?.()
    await this.#sorter?.stop()
  }

  /**
   * The user's kept messages above its cursor, in capture order, once the sorter has passed
   * `seenUpTo` (the highest durable sequence this node had handled when the connection opened)
   * and what the stream held before this node started. Rejects when that cannot be known.
   */
  async kept(userId: string, seenUpTo: number): Promise<readonly StoredMessage[]> {
    // A connection that opens while the node sets offline delivery up waits for it.
    const deadline = Date.now() + SORT_WAIT_MS
    while ((!this.#store || !this.#sorter) && Date.now() < deadline && !this.#closed) await new Promise((resolve) => setTimeout(resolve, 50))
    const store = this.#store
    const sorter = this.#sorter
    if (!store || !sorter) throw new ImError(ImErrorCode.BusUnavailable, 'the offline store is not ready')
    const needed = Math.max(seenUpTo, this.#backlog)
    const upTo = await sorter.sortedUpTo(needed, SORT_WAIT_MS)
    if (upTo === undefined) throw new ImError(ImErrorCode.BusTimeout, `the offline sorter did not reach sequence ${needed} within ${SORT_WAIT_MS} ms`)
    const [cursor, newest] = await Promise.all([store.cursor(userId), store.newest(userId)])
    // A cursor move of this node still on its way counts already (a quick reconnect to this node).
    const after = Math.max(cursor.sequence, this.#cursorWrites.get(userId)?.target ?? 0)
    if (newest.highestSequence <= after) return []
    return store.pending(userId, after, upTo)
  }

  /** The user got everything up to `sequence`: move its cursor there (never back). */
  delivered(userId: string, sequence: number): void {
    const running = this.#cursorWrites.get(userId)
    if (running) {
      running.target = Math.max(running.target, sequence)
      return
    }
    this.#cursorWrites.set(userId, { target: sequence })
    void this.#writeCursor(userId)
  }

  /** One write at a time per user; deliveries meanwhile only raise the target. */
  async #writeCursor(userId: string): Promise<void> {
    let written = 0
    try {
      for (;;) {
        const target = this.#cursorWrites.get(userId)!.target
        if (target <= written) return
        const store = this.#store
        if (!store) throw new ImError(ImErrorCode.BusUnavailable, 'the offline store is not ready')
        await store.advance(userId, target)
        written = target
      }
    } catch (error) {
      this.#options.logger.warn('offline delivery: a delivery cursor could not be moved; those messages may come again at the next connect', { error })
    } finally {
      this.#cursorWrites.delete(userId)
    }
  }

  #setUp(): void {
    const nc = this.#connection()
    if (this.#closed || !nc || nc === this.#nc) return
    this.#nc = nc
    clearTimeout(this.#retry)
    void this.#sorter?.stop()
    this.#store = undefined
    this.#sorter = undefined
    void this.#build(nc).catch((error: unknown) => this.#rebuild(nc, `offline delivery cannot start: ${messageOf(error)}`))
  }

  /** Sets everything up again on the same connection after a pause; until then connections replay nothing. */
  #rebuild(nc: NatsConnection, reason: string): void {
    if (this.#closed || this.#nc !== nc) return
    this.#options.logger.error(`${reason}; retrying in ${RETRY_MS / 1000} s`)
    this.#nc = undefined
    clearTimeout(this.#retry)
    this.#retry = setTimeout(() => this.#setUp(), RETRY_MS)
    this.#retry.unref()
  }

  async #build(nc: NatsConnection): Promise<void> {
    const jetstream = this.#jetstream
    const { logger, recipients } = this.#options
    const source = jetstream.stream ?? ''
    const subject = `im.${OFFLINE_HUB}.send.user`
    // The stream feed makes the capturing stream on connect.
    await this.#bus.ready()
    const captured = await (await jetstreamManager(nc, { checkAPI: false })).streams.info(source)
    if (!(captured.config.subjects ?? []).some((pattern) => subjectCovers(pattern, subject))) {
      throw new ImError(ImErrorCode.ConfigInvalid, `stream ${source} exists but does not hold ${subject}, so nothing could be kept: add the subject to it or name another stream`)
    }
    const { replicas } = chooseReplicas(nc, jetstream.replicas)
    const store = new OfflineStore(nc, { hub: OFFLINE_HUB, ...jetstream.offline, duplicateWindowMs: jetstream.duplicateWindowMs, replicas })
    if (await store.ensure({ stream: source, created: captured.created })) {
      logger.warn(`offline delivery: stream ${source} was made anew; the messages kept from the old one and the delivery cursors are dropped`)
    }
    // What the stream captured before this node's feed started is never handled live here: the
    // first replays wait until the sorter is past it.
    this.#backlog = captured.state.last_seq
    const sorter = new OfflineSorter(nc, {
      store,
      sourceStream: source,
      subject,
      consumer: SORTER_CONSUMER,
      recipients,
      logger,
      ttlMs: jetstream.offline.ttlMs,
      sourceGone: () => this.#rebuild(nc, `stream ${source} is gone`),
    })
    await sorter.start()
    if (this.#closed || this.#nc !== nc) return void (await sorter.stop())
    this.#store = store
    this.#sorter = sorter
    logger.info(`offline delivery: durable messages of ${subject} are kept in ${jetstream.offline.stream} for ${jetstream.offline.ttlMs} ms, at most ${jetstream.offline.maxPerUser} per user`)
  }
}
