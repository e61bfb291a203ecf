/**
 * Where durable user messages wait for their user, for the NATS bus. Two JetStream streams, no
 * consumer per user:
 *
 * - the store (`IM_OFFLINE` by default) keeps each user's messages of each hub on a subject of
 *   their own, `im.<hub>.offline.<key>`, at most `maxPerUser` per subject (the oldest go first) and
 *   at most `ttlMs`; each message carries the sequence it had in the stream it was captured by;
 * - the cursors, laid out as a NATS KV bucket (`nats kv get im-offline-cursors <key>` reads them):
 *   per user and hub, the highest captured sequence already delivered. A cursor only moves forward,
 *   by compare-and-set on its revision, so two nodes delivering to one user never move it back.
 *
 * A user's key is the base64url form of the user id: any id becomes a valid subject token and KV key.
 * One store serves every hub of the cluster (`forHub`): the hubs share the capturing stream, so
 * its sequences order all of them, and a capturing stream made anew empties the store for all.
 */
import { Buffer } from 'node:buffer'
import { AckPolicy, DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamClient, JetStreamManager, StreamConfig } from '@nats-io/jetstream'
import { headers } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { subjectCovers } from './subjects.js'

export interface OfflineStoreSettings {
  /** The hub whose `send.user` messages this store reads and writes (its subjects are `im.<hub>.offline.<key>`). */
  readonly hub: string
  /**
   * The hubs whose subjects `ensure` adds to the store stream (default: `hub`). Subjects are only
   * ever added: another node of the cluster may serve other hubs.
   */
  readonly hubs?: readonly string[]
  /** The store stream. */
  readonly stream: string
  /** The KV bucket of the cursors (its stream is `KV_<bucket>`). */
  readonly cursorBucket: string
  /** How long a message is kept, in ms. */
  readonly ttlMs: number
  /** Messages kept per user; past it the oldest is dropped. */
  readonly maxPerUser: number
  /** How long the store recognises a copy it already holds (the sorter's retries), in ms. */
  readonly duplicateWindowMs: number
  /** Bound on each JetStream request, in ms (default 5000). */
  readonly timeoutMs?: number
  /** Replicas of the two streams when IMService creates them (an existing one keeps its own). */
  readonly replicas?: number
}

/** One kept message: its sequence in the capturing stream, and the payload as published. */
export interface StoredMessage {
  readonly sourceSequence: number
  readonly data: Uint8Array
}

/** The capturing stream's sequence of a kept message. */
export const SOURCE_SEQUENCE_HEADER = 'Im-Source-Sequence'
/** The highest source sequence kept for the user when this copy was appended, this one included. */
export const HIGHEST_SEQUENCE_HEADER = 'Im-Highest-Sequence'

const NANOS_PER_MS = 1_000_000
/** Compare-and-set attempts on one cursor before giving up (another node keeps winning). */
const MAX_CURSOR_ATTEMPTS = 10
/** Tries of one copy while other copies for the same user keep landing first. */
const MAX_APPEND_ATTEMPTS = 20
/** A replay's consumer left behind (its node died mid-read) is removed by the server after this. */
const READER_IDLE_MS = 10_000

/**
 * The hub offline delivery first served alone. Its cursor keys and sorter consumer keep the names
 * they had then, so a cluster that turns on more hubs keeps its users' cursors and the sorter's place.
 */
export const FIRST_OFFLINE_HUB = 'default'

export function userKey(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url')
}

/**
 * A user's cursor key in the bucket: the user key for the DefaultHub, `<hub>.<user key>` for the
 * others (a base64url key has no '.', so the two never meet).
 */
export function cursorKey(hub: string, userId: string): string {
  return hub === FIRST_OFFLINE_HUB ? userKey(userId) : `${hub}.${userKey(userId)}`
}

export class OfflineStore {
  readonly #nc: NatsConnection
  readonly #settings: OfflineStoreSettings
  readonly #js: JetStreamClient
  #jsm: JetStreamManager | undefined
  /** When the capturing stream was created (`ensure`): part of each copy's message id. */
  #sourceId = ''

  constructor(nc: NatsConnection, settings: OfflineStoreSettings) {
    this.#nc = nc
    this.#settings = settings
    this.#js = jetstream(nc, { timeout: settings.timeoutMs ?? 5000 })
  }

  get settings(): OfflineStoreSettings {
    return this.#settings
  }

  /** The same store, reading and writing `hub`'s users (after `ensure`, which it shares). */
  forHub(hub: string): OfflineStore {
    const store = new OfflineStore(this.#nc, { ...this.#settings, hub })
    store.#sourceId = this.#sourceId
    store.#jsm = this.#jsm
    return store
  }

  /** The store subject of a user. */
  subjectOf(userId: string): string {
    return `im.${this.#settings.hub}.offline.${userKey(userId)}`
  }

  /**
   * Creates both streams, or brings their limits in line with the settings (they are ours).
   * `source` names the capturing stream and when it was created: a capturing stream made anew
   * numbers from 1 again, below every cursor, and what was kept is numbered in the old one's
   * sequences, so both the kept messages and the cursors are dropped (new messages would otherwise
   * be skipped as delivered). Resolves true when that happened.
   */
  async ensure(source: { readonly stream: string; readonly created: string }): Promise<boolean> {
    const { stream, cursorBucket, ttlMs, maxPerUser, duplicateWindowMs, hub, hubs } = this.#settings
    const maxAge = ttlMs * NANOS_PER_MS
    const description = `durable user messages captured by stream ${source.stream} created ${source.created}`
    // Short: it is stored with every copy. Milliseconds tell two streams of one name apart.
    this.#sourceId = (Date.parse(source.created) || 0).toString(36)
    const before = await this.#ensureStream({
      name: stream,
      description,
      subjects: (hubs ?? [hub]).map((name) => `im.${name}.offline.>`),
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: maxPerUser,
      max_age: maxAge,
      duplicate_window: Math.min(duplicateWindowMs, ttlMs) * NANOS_PER_MS,
      allow_direct: true,
    })
    // The layout of a NATS KV bucket with history 1. A cursor unwritten for ttlMs expires: every
    // message it covered has expired by then too.
    await this.#ensureStream({
      name: `KV_${cursorBucket}`,
      subjects: [`$KV.${cursorBucket}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      max_msgs_per_subject: 1,
      max_age: maxAge,
      allow_rollup_hdrs: true,
      deny_delete: true,
      allow_direct: true,
    })
    if (before?.description === undefined || before.description === description) return false
    const jsm = await this.#manager()
    await jsm.streams.purge(stream)
    await jsm.streams.purge(`KV_${cursorBucket}`)
    return true
  }

  /**
   * Resolves with the configuration the stream had before, undefined when it was created. The
   * subjects it has are kept: those of hubs this node does not serve are another node's.
   */
  async #ensureStream(wanted: Partial<StreamConfig> & { name: string }): Promise<Partial<StreamConfig> | undefined> {
    const jsm = await this.#manager()
    const existing = await jsm.streams.info(wanted.name).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined
      throw error
    })
    if (!existing) {
      await jsm.streams.add({ ...wanted, num_replicas: this.#settings.replicas ?? 1 })
      return undefined
    }
    const had = existing.config.subjects ?? []
    const config = { ...wanted, subjects: [...had, ...(wanted.subjects ?? []).filter((subject) => !had.some((pattern) => subjectCovers(pattern, subject)))] }
    const current = existing.config as unknown as Record<string, unknown>
    const differs = Object.entries(config).some(([key, value]) => JSON.stringify(current[key]) !== JSON.stringify(value))
    if (differs) await jsm.streams.update(config.name, { ...existing.config, ...config })
    return existing.config
  }

  /**
   * Keeps one copy of a captured message for one user; a copy already kept is not kept twice.
   * Copies made by two nodes at once may land out of order, so each copy also carries the highest
   * source sequence kept for the user so far, and is appended only on top of the copy it read
   * that from (compare-and-set on the subject's last sequence): a connect then learns from the
   * newest copy alone whether anything is new.
   */
  async append(userId: string, sourceSequence: number, data: Uint8Array): Promise<void> {
    const subject = this.subjectOf(userId)
    const msgID = `${this.#sourceId}:${sourceSequence}:${userKey(userId)}`
    for (let attempt = 1; ; attempt++) {
      const newest = await this.newest(userId)
      const hdrs = headers()
      hdrs.set(SOURCE_SEQUENCE_HEADER, String(sourceSequence))
      hdrs.set(HIGHEST_SEQUENCE_HEADER, String(Math.max(sourceSequence, newest.highestSequence)))
      try {
        await this.#js.publish(subject, data, { msgID, headers: hdrs, expect: { lastSubjectSequence: newest.storeSequence } })
        return
      } catch (error) {
        // Another copy for this user landed meanwhile: read it and try again on top of it.
        if (attempt < MAX_APPEND_ATTEMPTS && error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) continue
        // Perhaps no stream took it: nodes serving other hubs that add their subjects to the store
        // at the same moment can drop this hub's (the last update of a stream wins). Put it back;
        // the sorter offers the message again.
        await this.#keepSubject().catch(() => undefined)
        throw error
      }
    }
  }

  /** Adds this hub's subjects to the store stream when they are missing. */
  async #keepSubject(): Promise<void> {
    const jsm = await this.#manager()
    const { stream, hub } = this.#settings
    const subject = `im.${hub}.offline.>`
    const { config } = await jsm.streams.info(stream)
    if ((config.subjects ?? []).some((pattern) => subjectCovers(pattern, subject))) return
    await jsm.streams.update(stream, { ...config, subjects: [...(config.subjects ?? []), subject] })
  }

  /** The user's cursor (0 when none) and the revision to compare against when moving it. */
  async cursor(userId: string): Promise<{ readonly sequence: number; readonly revision: number }> {
    const entry = await (await this.#manager()).direct.getMessage(`KV_${this.#settings.cursorBucket}`, { last_by_subj: this.#cursorSubject(userId) })
    if (!entry) return { sequence: 0, revision: 0 }
    const sequence = Number(entry.string())
    return { sequence: Number.isSafeInteger(sequence) && sequence > 0 ? sequence : 0, revision: entry.seq }
  }

  /**
   * The user's newest kept copy: the highest source sequence kept for the user (possibly of a
   * message dropped since) and the copy's sequence in the store; 0 and 0 when nothing is kept.
   */
  async newest(userId: string): Promise<{ readonly highestSequence: number; readonly storeSequence: number }> {
    const entry = await (await this.#manager()).direct.getMessage(this.#settings.stream, { last_by_subj: this.subjectOf(userId) })
    if (!entry) return { highestSequence: 0, storeSequence: 0 }
    const highest = Math.max(sourceSequenceOf(entry.header.get(HIGHEST_SEQUENCE_HEADER)), sourceSequenceOf(entry.header.get(SOURCE_SEQUENCE_HEADER)))
    return { highestSequence: highest, storeSequence: entry.seq }
  }

  /**
   * The user's kept messages whose source sequence is above `after` and at most `upTo`, in source
   * order. Read through one short-lived consumer on the user's subject, deleted once read (and
   * forgotten by the server after a few seconds should this node die meanwhile).
   */
  async pending(userId: string, after: number, upTo: number): Promise<StoredMessage[]> {
    const jsm = await this.#manager()
    const { stream } = this.#settings
    const info = await jsm.consumers.add(stream, {
      filter_subject: this.subjectOf(userId),
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      inactive_threshold: READER_IDLE_MS * NANOS_PER_MS,
      mem_storage: true,
      num_replicas: 1,
    })
    const found: StoredMessage[] = []
    try {
      if (info.num_pending === 0) return found
      const consumer = await this.#js.consumers.get(stream, info.name)
      const messages = await consumer.fetch({ max_messages: info.num_pending, expires: this.#settings.timeoutMs ?? 5000 })
      let read = 0
      for await (const message of messages) {
        const sourceSequence = sourceSequenceOf(message.headers?.get(SOURCE_SEQUENCE_HEADER))
        if (sourceSequence > after && sourceSequence <= upTo) found.push({ sourceSequence, data: message.data })
        if (++read >= info.num_pending) break
      }
    } finally {
      void jsm.consumers.delete(stream, info.name).catch(() => undefined)
    }
    // Copies made by two nodes' sorters may land out of order; delivery follows the capturing stream.
    return found.sort((a, b) => a.sourceSequence - b.sourceSequence)
  }

  /** Moves the user's cursor to `sequence` unless it is there or further already. */
  async advance(userId: string, sequence: number): Promise<void> {
    const subject = this.#cursorSubject(userId)
    for (let attempt = 0; attempt < MAX_CURSOR_ATTEMPTS; attempt++) {
      const current = await this.cursor(userId)
      if (current.sequence >= sequence) return
      try {
        await this.#js.publish(subject, String(sequence), { expect: { lastSubjectSequence: current.revision } })
        return
      } catch (error) {
        // Another node moved it meanwhile: read it again.
        if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) continue
        throw error
      }
    }
  }

  #cursorSubject(userId: string): string {
    return `$KV.${this.#settings.cursorBucket}.${cursorKey(this.#settings.hub, userId)}`
  }

  async #manager(): Promise<JetStreamManager> {
    this.#jsm ??= await jetstreamManager(this.#nc, { checkAPI: false, timeout: this.#settings.timeoutMs ?? 5000 })
    return this.#jsm
  }
}

function sourceSequenceOf(value: string | undefined): number {
  const sequence = Number(value)
  return Number.isSafeInteger(sequence) && sequence > 0 ? sequence : 0
}
