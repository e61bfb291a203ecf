/**
 * Takes subjects from a JetStream stream instead of core NATS, for the NATS bus: services that
 * publish through JetStream (DotNetCore.CAP's NATS transport, or `js.publish`) need a stream to
 * hold their subjects, and a node that lost NATS for a while should get what was stored meanwhile.
 *
 * - The stream is created when missing and verified when present: one made by someone else is
 *   never changed, and the log says which of our subjects it does not hold (those stay on core).
 *   When it is missing and another stream holds our subjects, StreamClaim decides: that stream
 *   is read as it is, or start-up is refused.
 * - Each node reads through its own durable consumer, so every node sees every message (a
 *   broadcast reaches each node's connections). The consumer starts at new messages when it is
 *   first made, resumes from its ack floor after an outage or a restart with the same node id,
 *   and is removed by the server after an idle threshold once its node is gone for good.
 * - A message is acknowledged after its handler settled; a redelivery or a publisher's retry
 *   (same stream sequence, `Nats-Msg-Id` or `cap-msg-id` within the window) is acknowledged and
 *   skipped, so it never becomes a second push.
 */
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { ConsumerConfig, ConsumerMessages, JetStreamManager, JsMsg, StreamInfo } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Logger } from '../logger.js'
import type { BusMessage } from './bus.js'
import { DedupWindow } from './dedup-window.js'
import { headersToMap } from './headers.js'
import { claimStream, createStream, supportsFilterSubjects } from './stream-claim.js'
import { subjectCovers, subjectMatches } from './subjects.js'

export interface StreamFeedSettings {
  /** The stream to create or verify and to consume. */
  readonly stream: string
  /** The subjects taken from it (the stream is created with exactly these). */
  readonly subjects: readonly string[]
  /** The durable consumer of this node: the same name after a restart resumes where it left off. */
  readonly consumer: string
  /** Duplicate window of a created stream, and how long we remember message ids, in ms. */
  readonly duplicateWindowMs: number
  /** How long a created stream keeps messages, in ms. */
  readonly maxAgeMs: number
  /** The server deletes a consumer nobody read for this long, in ms. */
  readonly inactiveThresholdMs: number
  /** Redelivery of a message whose ack did not come within this, in ms (default 30 000). */
  readonly ackWaitMs?: number
}

export interface StreamFeedOptions extends StreamFeedSettings {
  readonly logger: Logger
  /** Handles one message in stream order; the message is acknowledged once the result settles. */
  readonly deliver: (message: BusMessage) => void | Promise<unknown>
}

/** Message ids remembered at once: past this the oldest are forgotten before their window ends. */
const MAX_REMEMBERED = 100_000
const NANOS_PER_MS = 1_000_000

export class StreamFeed {
  readonly #nc: NatsConnection
  readonly #options: StreamFeedOptions
  #dedup: DedupWindow
  #messages: ConsumerMessages | undefined
  #stopped = false
  #repairing: Promise<void> | undefined
  /** The stream read: the configured one, or the stream that held our subjects in its place. */
  #stream: string
  /** Our subjects the stream holds; anything else it carries is acknowledged and skipped. */
  #held: readonly string[] = []
  /** Messages skipped as repeats, for tests and metrics. */
  duplicatesSkipped = 0

  constructor(nc: NatsConnection, options: StreamFeedOptions) {
    this.#nc = nc
    this.#options = options
    this.#stream = options.stream
    this.#dedup = new DedupWindow({ windowMs: options.duplicateWindowMs, maxKeys: MAX_REMEMBERED })
  }

  /** The stream read (known once `start` resolved). */
  get streamName(): string {
    return this.#stream
  }

  /**
   * Creates or verifies the stream and this node's consumer, then starts consuming. Resolves with
   * the configured subjects the stream holds (the others must come from core NATS); rejects when
   * JetStream cannot be used at all, or with IM_STREAM_CONFLICT when other streams hold some of
   * our subjects and ours is missing.
   */
  async start(): Promise<readonly string[]> {
    const jsm = await jetstreamManager(this.#nc, { checkAPI: false })
    const held = await this.#ensureStream(jsm)
    if (held.length === 0) return held
    await this.#ensureConsumer(jsm, held)
    const consumer = await jetstream(this.#nc).consumers.get(this.#stream, this.#options.consumer)
    const messages = await consumer.consume({ max_messages: 256 })
    if (this.#stopped) {
      await messages.close()
      return held
    }
    this.#messages = messages
    void this.#read(messages)
    void this.#watch(messages, jsm, held)
    return held
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await this.#messages?.close().catch(() => undefined)
  }

  async #ensureStream(jsm: JetStreamManager): Promise<readonly string[]> {
    const { stream, subjects, logger } = this.#options
    const { name, info: existing } = await claimStream(jsm, stream, subjects)
    this.#stream = name
    if (!existing) {
      await createStream(jsm, {
        name: stream,
        subjects: [...subjects],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        max_age: this.#options.maxAgeMs * NANOS_PER_MS,
        duplicate_window: this.#options.duplicateWindowMs * NANOS_PER_MS,
      })
      logger.info(`JetStream stream ${stream} created for ${subjects.join(', ')}`)
      this.#held = subjects
      return subjects
    }
    this.#held = this.#verify(existing)
    return this.#held
  }

  /** A stream someone else made is used as it is: we only say what it lacks. */
  #verify(info: StreamInfo): readonly string[] {
    const { subjects, logger } = this.#options
    const stream = info.config.name
    const theirs = info.config.subjects ?? []
    const held = subjects.filter((subject) => theirs.some((pattern) => subjectCovers(pattern, subject)))
    const missing = subjects.filter((subject) => !held.includes(subject))
    if (stream !== this.#options.stream) {
      logger.warn(
        `JetStream stream ${this.#options.stream} does not exist; stream ${stream} (${info.config.storage} storage, made by someone else, e.g. DotNetCore.CAP subscribers) ` +
          `holds ${subjects.join(', ')}, so IMService reads that one as it is. Set jetstream.stream to ${stream} to say so.`,
        { streamSubjects: theirs },
      )
    } else if (missing.length === 0) {
      logger.info(`JetStream stream ${stream} exists and holds ${subjects.join(', ')}; using it as it is`, { streamSubjects: theirs })
    } else {
      logger.error(
        `JetStream stream ${stream} exists but does not hold ${missing.join(', ')}; IMService leaves the stream unchanged and ` +
          `takes ${missing.length === 1 ? 'that subject' : 'those subjects'} from core NATS (no catch-up). Add them to the stream or name another one.`,
        { streamSubjects: theirs },
      )
    }
    const windowMs = (info.config.duplicate_window ?? 0) / NANOS_PER_MS
    if (windowMs < this.#options.duplicateWindowMs) {
      logger.warn(
        `JetStream stream ${stream} drops a repeated Nats-Msg-Id only within ${Math.round(windowMs / 1000)} s; IMService nodes skip repeats within ` +
          `${Math.round(this.#options.duplicateWindowMs / 1000)} s, but other readers of the stream get a later retry twice. Raise it with: nats stream edit ${stream} --dupe-window ${Math.ceil(this.#options.duplicateWindowMs / 1000)}s`,
      )
    }
    return held
  }

  async #ensureConsumer(jsm: JetStreamManager, held: readonly string[]): Promise<void> {
    const { consumer, logger } = this.#options
    const stream = this.#stream
    const existing = await jsm.consumers.info(stream, consumer).catch((error: unknown) => {
      if (isApiError(error, JetStreamApiCodes.ConsumerNotFound)) return undefined
      throw error
    })
    if (existing) {
      logger.info(`JetStream consumer ${consumer} on ${stream} resumes after stream sequence ${existing.ack_floor.stream_seq}`, {
        pending: existing.num_pending,
      })
      return
    }
    const theirs = (await jsm.streams.info(stream)).config.subjects ?? []
    // Read the whole stream when it holds nothing else; one filter works on every server; several
    // need nats-server 2.10. Before that the consumer reads the whole stream and #handle skips
    // other subjects: one consumer per subject would lose the order between, say, a group add and
    // the next send to that group.
    const filter: Partial<ConsumerConfig> = theirs.every((pattern) => held.some((subject) => subjectCovers(subject, pattern)))
      ? {}
      : held.length === 1
        ? { filter_subject: held[0] }
        : supportsFilterSubjects(this.#nc.info?.version)
          ? { filter_subjects: [...held] }
          : {}
    await jsm.consumers.add(stream, {
      durable_name: consumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: (this.#options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      inactive_threshold: this.#options.inactiveThresholdMs * NANOS_PER_MS,
      ...filter,
    })
    logger.info(`JetStream consumer ${consumer} on ${stream} created; it starts at new messages`)
  }

  async #read(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) this.#handle(message)
    } catch (error) {
      if (!this.#stopped) this.#options.logger.error(`JetStream consumer ${this.#options.consumer} stopped`, { error })
    }
  }

  #handle(message: JsMsg): void {
    if (!this.#held.some((pattern) => subjectMatches(pattern, message.subject))) {
      // Another reader's subject on a stream we share: not ours to deliver.
      message.ack()
      return
    }
    const headers = headersToMap(message.headers)
    const id = headers?.get('Nats-Msg-Id') ?? headers?.get('cap-msg-id')
    if (this.#dedup.seenBefore(`seq:${message.seq}`, id === undefined ? undefined : `id:${id}`)) {
      this.duplicatesSkipped++
      this.#options.logger.debug('skipped a repeated JetStream message', { subject: message.subject, seq: message.seq, redelivered: message.redelivered })
      message.ack()
      return
    }
    let result: void | Promise<unknown> = undefined
    try {
      // Called here, in stream order; only the acknowledgement waits for the handler.
      result = this.#options.deliver({ subject: message.subject, data: message.data, ...(headers ? { headers } : {}) })
    } catch (error) {
      this.#options.logger.error('bus handler threw; the subscription goes on', { subject: message.subject, error })
    }
    // A failed handler is not retried: its reason is logged, and a redelivery would fail alike.
    void Promise.resolve(result)
      .catch(() => undefined)
      .then(() => message.ack())
  }

  /** The consumer (or the whole stream) was deleted, e.g. idle too long while NATS was away: make it again. */
  async #watch(messages: ConsumerMessages, jsm: JetStreamManager, held: readonly string[]): Promise<void> {
    for await (const status of messages.status()) {
      if (this.#stopped) return
      if (status.type !== 'consumer_not_found' && status.type !== 'consumer_deleted' && status.type !== 'stream_not_found') continue
      // A new stream numbers its messages from 1 again: sequences seen before mean nothing.
      if (status.type === 'stream_not_found') this.#dedup = new DedupWindow({ windowMs: this.#options.duplicateWindowMs, maxKeys: MAX_REMEMBERED })
      this.#repairing ??= (async () => {
        this.#options.logger.warn(`JetStream consumer ${this.#options.consumer} is gone (${status.type}); creating it again`)
        try {
          await this.#ensureStream(jsm)
          await this.#ensureConsumer(jsm, held)
        } catch (error) {
          this.#options.logger.warn('JetStream consumer could not be created again; retrying', { error })
        } finally {
          this.#repairing = undefined
        }
      })()
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code
}
