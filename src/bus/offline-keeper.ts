/**
 * Offline delivery's NATS side for one node (docs/reliability.md, "Offline delivery"): sets up the
 * store and, per hub, the cluster's sorter of `im.<hub>.send.user` on each NATS connection, reads
 * what was kept for a user who connects to a hub, and moves users' cursors. What the payloads mean
 * is the hub's business: the keeper gets a reader of recipients and hands out kept payloads as
 * they were published.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Bus } from './bus.js'
import { NatsBus } from './nats-bus.js'
import { OfflineSorter } from './offline-sorter.js'
import { FIRST_OFFLINE_HUB, OfflineStore } from './offline-store.js'
import type { StoredMessage } from './offline-store.js'
import { chooseReplicas } from './stream-replicas.js'
import { subjectCovers } from './subjects.js'

/** The JetStream settings offline delivery reads (the node's `jetstream` configuration). */
export interface OfflineJetStreamSettings {
  /** The stream that captures the hubs' user subjects. */
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
  /** The hubs whose `im.<hub>.send.user` messages are kept: the stream must hold each one's. */
  readonly hubs: readonly string[]
  readonly logger: Logger
  /** Who a captured payload asks to be kept for; undefined when it does not ask. */
  readonly recipients: (data: Uint8Array) => readonly string[] | undefined
}

/**
 * The cluster's one sorter consumer of a hub on the capturing stream (one filter subject each, as
 * nats-server 2.9 allows). The DefaultHub's keeps the name it had when it was the only one.
 */
export function sorterConsumer(hub: string): string {
  return hub === FIRST_OFFLINE_HUB ? 'im-offline-sorter' : `im-offline-sorter-${hub}`
}
/** How long a replay waits for the sorter to reach what this node has handled. */
const SORT_WAIT_MS = 10_000
const RETRY_MS = 5000

/**
 * This node's offline keeper, or undefined when offline delivery is off. Refuses, precisely, on
 * the embedded bus, which has no JetStream (which hubs it serves is decided with the hubs).
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
  /** The cursor target of each hub's user being written (a write is running while it is here), by `cursorWriteKey`. */
  readonly #cursorWrites = new Map<string, { target: number }>()
  #nc: NatsConnection | undefined
  /** Each hub's view of the store and its sorter, once set up on the current connection. */
  #hubs: ReadonlyMap<string, { readonly store: OfflineStore; readonly sorter: OfflineSorter }> | undefined
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

  /** Messages this node's sorters copied into the store, over all hubs. */
  get sorted(): number {
    let copied = 0
    for (const { sorter } of this.#hubs?.values() ?? []) copied += sorter.copied
    return copied
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
    await this.#stopSorters()
  }

  /**
   * The user's messages kept for `hub` above its cursor, in capture order, once the hub's sorter
   * has passed `seenUpTo` (the highest durable sequence of the hub this node had handled when the
   * connection opened) and what the stream held before this node started. Rejects when that
   * cannot be known.
   */
  async kept(hub: string, userId: string, seenUpTo: number): Promise<readonly StoredMessage[]> {
    // A connection that opens while the node sets offline delivery up waits for it.
    const deadline = Date.now() + SORT_WAIT_MS
    while (!this.#hubs && Date.now() < deadline && !this.#closed) await new Promise((resolve) => setTimeout(resolve, 50))
    const { store, sorter } = this.#hubs?.get(hub) ?? {}
    if (!store || !sorter) throw new ImError(ImErrorCode.BusUnavailable, `the offline store of hub ${hub} is not ready`)
    const needed = Math.max(seenUpTo, this.#backlog)
    const upTo = await sorter.sortedUpTo(needed, SORT_WAIT_MS)
    if (upTo === undefined) throw new ImError(ImErrorCode.BusTimeout, `the offline sorter of hub ${hub} did not reach sequence ${needed} within ${SORT_WAIT_MS} ms`)
    const [cursor, newest] = await Promise.all([store.cursor(userId), store.newest(userId)])
    // A cursor move of this node still on its way counts already (a quick reconnect to this node).
    const after = Math.max(cursor.sequence, this.#cursorWrites.get(cursorWriteKey(hub, userId))?.target ?? 0)
    if (newest.highestSequence <= after) return []
    return store.pending(userId, after, upTo)
  }

  /** The user got everything of `hub` up to `sequence`: move its cursor there (never back). */
  delivered(hub: string, userId: string, sequence: number): void {
    const key = cursorWriteKey(hub, userId)
    const running = this.#cursorWrites.get(key)
    if (running) {
      running.target = Math.max(running.target, sequence)
      return
    }
    this.#cursorWrites.set(key, { target: sequence })
    void this.#writeCursor(hub, userId, key)
  }

  /** One write at a time per user and hub; deliveries meanwhile only raise the target. */
  async #writeCursor(hub: string, userId: string, key: string): Promise<void> {
    let written = 0
    try {
      for (;;) {
        const target = this.#cursorWrites.get(key)!.target
        if (target <= written) return
        const store = this.#hubs?.get(hub)?.store
        if (!store) throw new ImError(ImErrorCode.BusUnavailable, `the offline store of hub ${hub} is not ready`)
        await store.advance(userId, target)
        written = target
      }
    } catch (error) {
      this.#options.logger.warn('offline delivery: a delivery cursor could not be moved; those messages may come again at the next connect', { hub, error })
    } finally {
      this.#cursorWrites.delete(key)
    }
  }

  async #stopSorters(): Promise<void> {
    const hubs = this.#hubs
    this.#hubs = undefined
    await Promise.all([...(hubs?.values() ?? [])].map(({ sorter }) => sorter.stop()))
  }

  #setUp(): void {
    const nc = this.#connection()
    if (this.#closed || !nc || nc === this.#nc) return
    this.#nc = nc
    clearTimeout(this.#retry)
    void this.#stopSorters()
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
    const { logger, recipients, hubs } = this.#options
    const source = jetstream.stream ?? ''
    const subjects = hubs.map((hub) => `im.${hub}.send.user`)
    // The stream feed makes the capturing stream on connect.
    await this.#bus.ready()
    const captured = await (await jetstreamManager(nc, { checkAPI: false })).streams.info(source)
    const missing = subjects.filter((subject) => !(captured.config.subjects ?? []).some((pattern) => subjectCovers(pattern, subject)))
    if (missing.length > 0) {
      throw new ImError(ImErrorCode.ConfigInvalid, `stream ${source} exists but does not hold ${missing.join(', ')}, so nothing could be kept: add the subject to it or name another stream`)
    }
    const { replicas } = chooseReplicas(nc, jetstream.replicas)
    const store = new OfflineStore(nc, { hub: hubs[0] ?? FIRST_OFFLINE_HUB, hubs, ...jetstream.offline, duplicateWindowMs: jetstream.duplicateWindowMs, replicas })
    if (await store.ensure({ stream: source, created: captured.created })) {
      logger.warn(`offline delivery: stream ${source} was made anew; the messages kept from the old one and the delivery cursors are dropped`)
    }
    // What the stream captured before this node's feed started is never handled live here: the
    // first replays wait until the sorters are past it.
    this.#backlog = captured.state.last_seq
    const ready = new Map<string, { store: OfflineStore; sorter: OfflineSorter }>()
    const stopAll = (): Promise<unknown> => Promise.all([...ready.values()].map(({ sorter }) => sorter.stop()))
    try {
      for (const hub of hubs) {
        const hubStore = store.forHub(hub)
        const sorter = new OfflineSorter(nc, {
          store: hubStore,
          sourceStream: source,
          subject: `im.${hub}.send.user`,
          consumer: sorterConsumer(hub),
          recipients,
          logger,
          ttlMs: jetstream.offline.ttlMs,
          sourceGone: () => this.#rebuild(nc, `stream ${source} is gone`),
        })
        ready.set(hub, { store: hubStore, sorter })
        await sorter.start()
      }
    } catch (error) {
      await stopAll()
      throw error
    }
    if (this.#closed || this.#nc !== nc) return void (await stopAll())
    this.#hubs = ready
    logger.info(`offline delivery: durable messages of ${subjects.join(', ')} are kept in ${jetstream.offline.stream} for ${jetstream.offline.ttlMs} ms, at most ${jetstream.offline.maxPerUser} per user`)
  }
}

/** Cursor writes are per user of a hub; a NUL cannot be part of a hub name. */
function cursorWriteKey(hub: string, userId: string): string {
  return `${hub}\u0000${userId}`
}
