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
 * - Pulls live `pullExpiresMs` and the server sends a heartbeat every `heartbeatMs` on a pending
 *   one. With neither a message nor a heartbeat for 2.5 heartbeats (the pull was lost with its
 *   server, the consumer has no leader, or is gone), or while idle a stream that does not answer
 *   a look-up (it has no leader), the consumer counts as stalled: the feed says so (`health`) and
 *   opens it again, creating what is missing, with backoff from 250 ms to 5 s. It is healthy again
 *   once it has caught up (a heartbeat, or a message with nothing pending behind it) and the
 *   stream answers.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { ConsumerConfig, ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { Logger } from '../logger.js'
import type { BusMessage } from './bus.js'
import { DedupWindow } from './dedup-window.js'
import { headersToMap } from './headers.js'
import { claimStream, createStream, heldSubjects, supportsFilterSubjects } from './stream-claim.js'
import { chooseReplicas } from './stream-replicas.js'
import { subjectCovers, subjectMatches } from './subjects.js'
import { messageOf } from '../errors.js'

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
  /** Replicas of a created stream: a count, or `auto` (default) for 3 on a cluster of 3 or more servers, else 1. */
  readonly replicas?: number | 'auto'
  /** Life of one pull request, in ms (default 5000). */
  readonly pullExpiresMs?: number
  /** Idle heartbeat on a pending pull, in ms (default 1000; at most half of `pullExpiresMs`). */
  readonly heartbeatMs?: number
}

/** Whether the consumer delivers: `false` with the reason while it is stalled. */
export type FeedHealth = { readonly healthy: true } | { readonly healthy: false; readonly reason: string }

export interface StreamFeedOptions extends StreamFeedSettings {
  readonly logger: Logger
  /** Handles one message in stream order; the message is acknowledged once the result settles. */
  readonly deliver: (message: BusMessage) => void | Promise<unknown>
  /** Told when the consumer stalls after a good start, and when it has caught up again. */
  readonly health?: (health: FeedHealth) => void
  /**
   * The subjects were served from elsewhere until now: count the consumer as stalled until it has
   * caught up, so that `health` tells when it has.
   */
  readonly catchingUp?: boolean
}

/** Message ids remembered at once: past this the oldest are forgotten before their window ends. */
const MAX_REMEMBERED = 100_000
const NANOS_PER_MS = 1_000_000
/** Without a message or heartbeat for this many heartbeat intervals the consumer counts as stalled. */
const STALL_AFTER_HEARTBEATS = 2.5
const REOPEN_FIRST_MS = 250
const REOPEN_MAX_MS = 5000

export class StreamFeed {
  readonly #nc: NatsConnection
  readonly #options: StreamFeedOptions
  #dedup: DedupWindow
  #messages: ConsumerMessages | undefined
  #stopped = false
  /** The stream read: the configured one, or the stream that held our subjects in its place. */
  #stream: string
  #replicas = 1
  /** Our subjects the stream holds; anything else it carries is acknowledged and skipped. */
  #held: readonly string[] = []
  /** When the last message or heartbeat came. */
  #lastLife = Date.now()
  /** When the last message came, and when the stream last answered a look-up (see #probeStream). */
  #lastMessage = Date.now()
  #streamAnswered = 0
  #probing = false
  #jsm: JetStreamManager | undefined
  /** Stream sequence of the last message handled: a consumer made again starts after it. */
  #lastSeq = 0
  /** Why and since when the consumer is stalled; undefined while it delivers. */
  #stall: { readonly reason: string; readonly since: number } | undefined
  #reopening: Promise<void> | undefined
  #watchdog: NodeJS.Timeout | undefined
  /** Aborted by stop(): ends a backoff pause of the reopening. */
  readonly #stop = new AbortController()
  /** Messages skipped as repeats, for tests and metrics. */
  duplicatesSkipped = 0

  constructor(nc: NatsConnection, options: StreamFeedOptions) {
    this.#nc = nc
    this.#options = options
    this.#stream = options.stream
    this.#dedup = new DedupWindow({ windowMs: options.duplicateWindowMs, maxKeys: MAX_REMEMBERED })
    if (options.catchingUp) this.#stall = { reason: 'catching up', since: Date.now() }
  }

  /** The connection this feed reads on. */
  get nc(): NatsConnection {
    return this.#nc
  }

  get #heartbeatMs(): number {
    return this.#options.heartbeatMs ?? 1000
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
    const choice = chooseReplicas(this.#nc, this.#options.replicas ?? 'auto')
    this.#replicas = choice.replicas
    this.#options.logger.info(`JetStream stream ${this.#options.stream}, if IMService creates it, gets ${choice.replicas} replica(s) (${choice.why})`)
    const held = await this.#ensureStream(jsm)
    this.#held = held
    if (held.length === 0) return held
    await this.#ensureConsumer(jsm, held)
    await this.#open()
    if (this.#stopped) return held
    this.#watchdog = setInterval(() => this.#checkLife(), this.#heartbeatMs)
    this.#watchdog.unref()
    return held
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#stop.abort()
    clearInterval(this.#watchdog)
    await this.#messages?.close().catch(() => undefined)
  }

  /** Starts pulling from this node's consumer. */
  async #open(): Promise<void> {
    const { consumer, pullExpiresMs = 5000 } = this.#options
    const stream = this.#stream
    // A short API timeout: while a consumer has no leader its lookup gets no answer, and the next
    // attempt (backoff) is worth more than a long wait.
    const js = jetstream(this.#nc, { timeout: Math.max(1000, 2 * this.#heartbeatMs) })
    const messages = await (await js.consumers.get(stream, consumer)).consume({ max_messages: 256, expires: pullExpiresMs, idle_heartbeat: this.#heartbeatMs })
    if (this.#stopped) return void (await messages.close().catch(() => undefined))
    this.#messages = messages
    this.#lastLife = Date.now()
    void this.#read(messages)
    void this.#watch(messages)
  }

  #checkLife(): void {
    if (this.#stopped || this.#nc.isClosed()) return
    const now = Date.now()
    const silentMs = now - this.#lastLife
    if (silentMs > STALL_AFTER_HEARTBEATS * this.#heartbeatMs) this.#stalled(`no message or heartbeat for ${silentMs} ms`)
    if (now - this.#lastMessage > this.#heartbeatMs || this.#stall) void this.#probeStream()
  }

  /**
   * A consumer whose leader lives sends heartbeats even while its stream has lost its leader and
   * stores nothing: heartbeats alone cannot tell "no traffic" from "no stream". So while no
   * message comes, the stream is looked up once per heartbeat (answered by its leader); no answer
   * within a heartbeat stalls the feed, and only an answer ends a stall.
   */
  async #probeStream(): Promise<void> {
    if (this.#probing) return
    this.#probing = true
    try {
      this.#jsm ??= await jetstreamManager(this.#nc, { checkAPI: false, timeout: this.#heartbeatMs })
      await this.#jsm.streams.info(this.#stream)
      this.#streamAnswered = Date.now()
    } catch (error) {
      // The consumer itself may be fine: it is opened again only when its own heartbeats stop.
      if (!this.#stopped && !this.#nc.isClosed()) this.#stalled(`stream ${this.#stream} does not answer: ${messageOf(error)}`, false)
    } finally {
      this.#probing = false
    }
  }

  /** A message or heartbeat came; `caughtUp` when nothing waits behind it in the stream. */
  #alive(caughtUp: boolean): void {
    this.#lastLife = Date.now()
    const stall = this.#stall
    if (!stall || !caughtUp || this.#reopening || this.#streamAnswered < stall.since) return
    this.#stall = undefined
    this.#options.logger.info(`JetStream consumer ${this.#options.consumer} on ${this.#stream} delivers again and has caught up, ${Date.now() - stall.since} ms after it stalled`)
    this.#options.health?.({ healthy: true })
  }

  /** The consumer does not deliver: say so once, and open it again (`reopen`) unless that is under way. */
  #stalled(reason: string, reopen = true): void {
    if (this.#stopped) return
    if (!this.#stall) {
      this.#stall = { reason, since: Date.now() }
      this.#options.logger.warn(`JetStream consumer ${this.#options.consumer} on ${this.#stream} stalled (${reason})${reopen ? '; opening it again' : ''}`)
      this.#options.health?.({ healthy: false, reason })
    }
    if (reopen) this.#reopening ??= this.#reopen().finally(() => (this.#reopening = undefined))
  }

  /** Closes the current pull and opens the consumer again, making stream and consumer when missing. */
  async #reopen(): Promise<void> {
    const messages = this.#messages
    this.#messages = undefined
    await messages?.close().catch(() => undefined)
    const jsm = await jetstreamManager(this.#nc, { checkAPI: false, timeout: Math.max(1000, 2 * this.#heartbeatMs) })
    for (let attempt = 0; !this.#stopped && !this.#nc.isClosed(); attempt++) {
      try {
        await this.#ensureConsumer(jsm, this.#held).catch(async (error: unknown) => {
          // The stream itself is gone (deleted): make it again.
          if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error
          this.#lastSeq = 0
          await this.#ensureStream(jsm)
          await this.#ensureConsumer(jsm, this.#held)
        })
        await this.#open()
        return
      } catch (error) {
        const waitMs = Math.min(REOPEN_MAX_MS, REOPEN_FIRST_MS * 2 ** Math.min(attempt, 10))
        this.#options.logger.debug(`JetStream consumer ${this.#options.consumer} could not be opened again; retrying in ${waitMs} ms`, { attempt: attempt + 1, error })
        await delay(waitMs, undefined, { signal: this.#stop.signal }).catch(() => undefined)
      }
    }
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
        num_replicas: this.#replicas,
      })
      logger.info(`JetStream stream ${stream} created for ${subjects.join(', ')}`)
      this.#held = subjects
      return subjects
    }
    this.#held = heldSubjects(existing, this.#options)
    return this.#held
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
    const info = await jsm.streams.info(stream)
    const theirs = info.config.subjects ?? []
    // A stream numbered below what we handled is another one (deleted and made again).
    if (info.state.last_seq < this.#lastSeq) this.#lastSeq = 0
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
      // A consumer lost while this node runs (deleted, idle past its threshold) starts again right
      // after the last message handled, so nothing stored meanwhile is skipped.
      ...(this.#lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.#lastSeq + 1 } : { deliver_policy: DeliverPolicy.New }),
      ack_wait: (this.#options.ackWaitMs ?? 30_000) * NANOS_PER_MS,
      inactive_threshold: this.#options.inactiveThresholdMs * NANOS_PER_MS,
      ...filter,
    })
    logger.info(`JetStream consumer ${consumer} on ${stream} created; it starts ${this.#lastSeq > 0 ? `after stream sequence ${this.#lastSeq}` : 'at new messages'}`)
  }

  async #read(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const message of messages) this.#handle(message)
    } catch (error) {
      if (this.#stopped || this.#messages !== messages) return
      this.#options.logger.error(`JetStream consumer ${this.#options.consumer} stopped`, { error })
      this.#stalled(`the consumer stopped: ${messageOf(error)}`)
    }
  }

  #handle(message: JsMsg): void {
    this.#lastMessage = Date.now()
    this.#lastSeq = Math.max(this.#lastSeq, message.seq)
    this.#alive(message.info.pending === 0)
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
      result = this.#options.deliver({ subject: message.subject, data: message.data, sequence: message.seq, ...(headers ? { headers } : {}) })
    } catch (error) {
      this.#options.logger.error('bus handler threw; the subscription goes on', { subject: message.subject, error })
    }
    // A failed handler is not retried: its reason is logged, and a redelivery would fail alike.
    void Promise.resolve(result)
      .catch(() => undefined)
      .then(() => message.ack())
  }

  /**
   * Heartbeats show the consumer is alive and idle (caught up). A missing consumer or stream, or
   * a pull nobody answered, stalls it at once instead of waiting for heartbeats to be missed.
   */
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (this.#stopped || this.#messages !== messages) return
      switch (status.type) {
        case 'heartbeat':
          this.#alive(true)
          break
        case 'discard':
          this.#alive(false)
          break
        case 'stream_not_found':
          // A new stream numbers its messages from 1 again: sequences seen before mean nothing.
          this.#dedup = new DedupWindow({ windowMs: this.#options.duplicateWindowMs, maxKeys: MAX_REMEMBERED })
          this.#lastSeq = 0
          this.#stalled('the stream is gone')
          break
        case 'consumer_not_found':
        case 'consumer_deleted':
          this.#stalled('the consumer is gone')
          break
        case 'heartbeats_missed':
          this.#stalled(`${status.count} heartbeats missed`)
          break
        case 'no_responders':
          this.#stalled('no server answered the pull (the consumer has no leader)')
          break
        default:
          break
      }
    }
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code
}
