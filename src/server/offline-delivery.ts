/**
 * Offline delivery of the DefaultHub's durable user messages (docs/reliability.md, "Offline
 * delivery"): puts together the store and the sorter (NATS, bus layer), and the gate that holds a
 * new connection's live durable messages while what was kept for its user is replayed (lifetime
 * layer). Reading kept payloads uses the same reader as the live path, so both deliver alike.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Bus } from '../bus/bus.js'
import { subjectCovers } from '../bus/subjects.js'
import { NatsBus } from '../bus/nats-bus.js'
import { OfflineSorter } from '../bus/offline-sorter.js'
import { OfflineStore } from '../bus/offline-store.js'
import type { JetStreamConfig } from '../config/config.js'
import { OFFLINE_SOURCE_SUBJECT } from '../config/resolve-jetstream-config.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import { readSendMessage, readTargets } from '../hub/service-message.js'
import { DurableGate } from '../lifetime/durable-gate.js'
import type { DurableSource, ReplayedMessage } from '../lifetime/durable-gate.js'
import type { Logger } from '../logger.js'

export interface OfflineDeliveryOptions {
  readonly bus: Bus
  readonly jetstream: JetStreamConfig
  /** Payloads larger than this are neither delivered nor kept (bytes). */
  readonly maxPayloadSize: number
  readonly logger: Logger
}

/** The hub whose `send.user` subject offline delivery serves. */
export const OFFLINE_HUB = 'default'
/** The cluster's one sorter consumer on the capturing stream. */
export const SORTER_CONSUMER = 'im-offline-sorter'
/** How long a replay waits for the sorter to reach what this node has handled. */
const SORT_WAIT_MS = 10_000
const RETRY_MS = 5000

const decoder = new TextDecoder('utf-8', { fatal: true })

/**
 * Offline delivery for this node, or undefined when it is off. Refuses to start, precisely, where
 * it cannot work: without NATS, or without the DefaultHub.
 */
export function offlineDeliveryFor(options: OfflineDeliveryOptions, descriptors: readonly HubDescriptor[]): OfflineDelivery | undefined {
  if (!options.jetstream.offline.enabled) return undefined
  if (!(options.bus instanceof NatsBus)) {
    throw new ImError(ImErrorCode.ConfigInvalid, 'offline delivery (IM_OFFLINE_DELIVERY) needs NATS with JetStream; this node runs on the embedded bus: set IM_NATS_URL')
  }
  if (!descriptors.some((d) => d.name === OFFLINE_HUB)) {
    throw new ImError(ImErrorCode.ConfigInvalid, `offline delivery (IM_OFFLINE_DELIVERY) serves ${OFFLINE_SOURCE_SUBJECT} of the DefaultHub, which this node does not serve`)
  }
  const bus = options.bus
  return new OfflineDelivery(options, () => bus.connection)
}

export class OfflineDelivery implements DurableSource {
  readonly gate: DurableGate
  readonly #options: OfflineDeliveryOptions
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

  constructor(options: OfflineDeliveryOptions, connection: () => NatsConnection | undefined) {
    this.#options = options
    this.#connection = connection
    this.gate = new DurableGate({ source: this, logger: options.logger })
  }

  /** Messages this node's sorter copied into the store. */
  get sorted(): number {
    return this.#sorter?.copied ?? 0
  }

  /** Sets up the store and the sorter on each new NATS connection. */
  start(): void {
    this.#unlisten = this.#options.bus.onStatusChange((status) => {
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

  async replay(userId: string, seenUpTo: number): Promise<readonly ReplayedMessage[]> {
    // A connection that opens while the node sets offline delivery up waits for it.
    const deadline = Date.now() + SORT_WAIT_MS
    while ((!this.#store || !this.#sorter) && Date.now() < deadline && !this.#closed) await new Promise((resolve) => setTimeout(resolve, 50))
    const store = this.#store
    const sorter = this.#sorter
    if (!store || !sorter) throw new ImError(ImErrorCode.BusUnavailable, 'the offline store is not ready')
    // A connection that opened before the set-up ended must also wait for the backlog.
    const needed = Math.max(seenUpTo, this.#backlog)
    const upTo = await sorter.sortedUpTo(needed, SORT_WAIT_MS)
    if (upTo === undefined) throw new ImError(ImErrorCode.BusTimeout, `the offline sorter did not reach sequence ${needed} within ${SORT_WAIT_MS} ms`)
    const [cursor, newest] = await Promise.all([store.cursor(userId), store.newest(userId)])
    // A cursor move of this node still on its way counts already (a quick reconnect to this node).
    const after = Math.max(cursor.sequence, this.#cursorWrites.get(userId)?.target ?? 0)
    if (newest.highestSequence <= after) return []
    const kept = await store.pending(userId, after, upTo)
    const messages: ReplayedMessage[] = []
    for (const { sourceSequence, data } of kept) {
      const message = this.#read(data)
      if (message) messages.push({ sequence: sourceSequence, method: message.method, args: message.args })
    }
    return messages
  }

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

  /** The payload as the live path reads it, when it is a durable user message; otherwise undefined. */
  #read(data: Uint8Array): { method: string; args: readonly unknown[]; users: readonly string[] } | undefined {
    if (data.byteLength > this.#options.maxPayloadSize) return undefined
    try {
      const payload: unknown = JSON.parse(decoder.decode(data))
      const message = readSendMessage(payload)
      if (!message.durable) return undefined
      return { method: message.method, args: message.args, users: readTargets(payload, 'userId', 'userIds') }
    } catch {
      return undefined
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
    void this.#build(nc).catch((error: unknown) => this.#rebuild(nc, `offline delivery cannot start: ${error instanceof Error ? error.message : String(error)}`))
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
    const { jetstream, logger, bus } = this.#options
    const source = jetstream.stream!
    // The stream feed makes the capturing stream on connect.
    await bus.ready()
    const captured = await (await jetstreamManager(nc, { checkAPI: false })).streams.info(source)
    if (!(captured.config.subjects ?? []).some((pattern) => subjectCovers(pattern, OFFLINE_SOURCE_SUBJECT))) {
      throw new ImError(ImErrorCode.ConfigInvalid, `stream ${source} exists but does not hold ${OFFLINE_SOURCE_SUBJECT}, so nothing could be kept: add the subject to it or name another stream`)
    }
    const store = new OfflineStore(nc, { hub: OFFLINE_HUB, ...jetstream.offline, duplicateWindowMs: jetstream.duplicateWindowMs })
    if (await store.ensure({ stream: source, created: captured.created })) {
      logger.warn(`offline delivery: stream ${source} was made anew since the cursors were written; they are reset, so messages kept before may be delivered again`)
    }
    // What the stream captured before this node's feed started is never handled live here: the
    // first replays wait until the sorter is past it.
    this.#backlog = captured.state.last_seq
    const sorter = new OfflineSorter(nc, {
      store,
      sourceStream: source,
      subject: OFFLINE_SOURCE_SUBJECT,
      consumer: SORTER_CONSUMER,
      recipients: (data) => this.#read(data)?.users,
      logger,
      ttlMs: jetstream.offline.ttlMs,
      sourceGone: () => this.#rebuild(nc, `stream ${source} is gone`),
    })
    await sorter.start()
    if (this.#closed || this.#nc !== nc) return void (await sorter.stop())
    this.#store = store
    this.#sorter = sorter
    logger.info(`offline delivery: durable messages of ${OFFLINE_SOURCE_SUBJECT} are kept in ${jetstream.offline.stream} for ${jetstream.offline.ttlMs} ms, at most ${jetstream.offline.maxPerUser} per user`)
  }
}
