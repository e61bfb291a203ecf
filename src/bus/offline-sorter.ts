/**
 * Copies one hub's durable user messages from the stream that captures them into the offline
 * store, one copy per user. One durable consumer per hub for the whole cluster (never one per
 * user), read by every node serving the hub: each message is sorted once whichever node takes it,
 * and messages published while every node was down wait in the capturing stream until a node is
 * back. Nodes sort in parallel, so copies of one user may land out of order; the store's readers
 * order them by source sequence and read only up to what is sorted (`sortedUpTo`).
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Logger } from '../logger.js'
import type { OfflineStore } from './offline-store.js'

export interface OfflineSorterOptions {
  readonly store: OfflineStore
  /** The stream that captures the hub's `send.user` subject. */
  readonly sourceStream: string
  /** `im.<hub>.send.user`. */
  readonly subject: string
  /** The shared consumer's name. */
  readonly consumer: string
  /** Who a payload asks to be kept for; undefined when it does not ask (not durable, or not readable). */
  readonly recipients: (data: Uint8Array) => readonly string[] | undefined
  readonly logger: Logger
  /** Older captured messages are not kept (the store would drop them at once), in ms. */
  readonly ttlMs: number
  /** Redelivery of a message whose copies were not confirmed within this, in ms (default 30 000). */
  readonly ackWaitMs?: number
  /** The capturing stream is gone (it may be made anew, numbering from 1): the store must be set up again. */
  readonly sourceGone: () => void
}

const NANOS_PER_MS = 1_000_000
/** Messages being copied at once, over all nodes. */
const MAX_IN_FLIGHT = 1000
/** Pause before a message whose copy failed is offered again. */
const RETRY_DELAY_MS = 2000
const POLL_MS = 25

export class OfflineSorter {
  readonly #nc: NatsConnection
  readonly #options: OfflineSorterOptions
  #messages: ConsumerMessages | undefined
  #jsm: JetStreamManager | undefined
  #stopped = false
  /** The highest source sequence known to be sorted, with everything below it. */
  #floor = 0
  /** Messages this node copied, for tests and metrics. */
  copied = 0

  constructor(nc: NatsConnection, options: OfflineSorterOptions) {
    this.#nc = nc
    this.#options = options
  }

  /** Creates the shared consumer when missing and starts taking from it. */
  async start(): Promise<void> {
    const jsm = (this.#jsm = await jetstreamManager(this.#nc, { checkAPI: false }))
    await this.#ensureConsumer(jsm)
    const consumer = await jetstream(this.#nc).consumers.get(this.#options.sourceStream, this.#options.consumer)
    const messages = await consumer.consume({ max_messages: 256 })
    if (this.#stopped) return void (await messages.close())
    this.#messages = messages
    void this.#read(messages)
    void this.#watch(messages, jsm)
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#messages?.close().catch(() => undefined)
  }

  /**
   * Waits until every captured user message up to `sequence` is in the store, at most `timeoutMs`.
   * Resolves with a source sequence up to which the store is complete (at least `sequence`), or
   * undefined when the wait ended first.
   */
  async sortedUpTo(sequence: number, timeoutMs: number): Promise<number | undefined> {
    if (this.#floor >= sequence) return this.#floor
    const jsm = this.#jsm ?? (await jetstreamManager(this.#nc, { checkAPI: false }))
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const info = await jsm.consumers.info(this.#options.sourceStream, this.#options.consumer)
      const floor = info.ack_floor.stream_seq
      // Nothing waiting and nothing being copied: all the stream holds is sorted.
      const complete = info.num_pending === 0 && info.num_ack_pending === 0 ? Math.max(floor, info.delivered.stream_seq, sequence) : floor
      if (complete > this.#floor) this.#floor = complete
      if (this.#floor >= sequence) return this.#floor
      if (Date.now() >= deadline) return undefined
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
  }

  async #ensureConsumer(jsm: JetStreamManager): Promise<void> {
    const { sourceStream, consumer, subject, logger } = this.#options
    const existing = await jsm.consumers.info(sourceStream, consumer).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return undefined
      throw error
    })
    if (existing) return
    await jsm.consumers.add(sourceStream, {
      durable_name: consumer,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      // Created once for the cluster; from then on it resumes, also after every node was down.
      deliver_policy: DeliverPolicy.New,
      max_ack_pending: MAX_IN_FLIGHT,
      ack_wait: (this.#options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      // Unread for as long as a message is kept: nothing it would still sort is worth keeping.
      inactive_threshold: this.#options.ttlMs * NANOS_PER_MS,
    })
    logger.info(`offline delivery: consumer ${consumer} on ${sourceStream} created; it sorts ${subject} from now on`)
  }

  async #read(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) void this.#sort(message)
    } catch (error) {
      if (!this.#stopped) this.#options.logger.error(`offline delivery: consumer ${this.#options.consumer} stopped`, { error })
    }
  }

  async #sort(message: JsMsg): Promise<void> {
    const { store, ttlMs, recipients, logger } = this.#options
    const users = recipients(message.data)
    const ageMs = Date.now() - message.info.timestampNanos / NANOS_PER_MS
    if (!users || users.length === 0 || ageMs > ttlMs) return message.ack()
    try {
      for (const userId of new Set(users)) await store.append(userId, message.seq, message.data)
      this.copied++
      message.ack()
    } catch (error) {
      logger.warn('offline delivery: a durable message could not be kept yet; retrying', { seq: message.seq, error })
      message.nak(RETRY_DELAY_MS)
    }
  }

  /** The consumer was deleted: make it again. The stream: hand over (its sequences start anew). */
  async #watch(messages: ConsumerMessages, jsm: JetStreamManager): Promise<void> {
    for await (const status of messages.status()) {
      if (this.#stopped) return
      if (status.type === 'stream_not_found') return this.#options.sourceGone()
      if (status.type !== 'consumer_not_found' && status.type !== 'consumer_deleted') continue
      await this.#ensureConsumer(jsm).catch((error: unknown) => this.#options.logger.warn('offline delivery: sorter consumer could not be made again; retrying', { error }))
    }
  }
}
