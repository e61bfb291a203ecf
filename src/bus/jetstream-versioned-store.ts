/**
 * A VersionedStore in a JetStream stream, as NATS's own key-value buckets are built, with what
 * nats-server 2.9 already has: each key is a subject `<prefix>.<key>`, the stream keeps one
 * message per subject, a value's revision is its stream sequence, and a write is conditional on
 * the subject's last sequence (`Nats-Expected-Last-Subject-Sequence`; 0 means "no message").
 * A removal purges the subject up to and including the revision read, so it removes nothing when
 * a later write replaced that value: the purge count says whether it won.
 */
import { DeliverPolicy, DiscardPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode } from '../errors.js'
import type { VersionedEntry, VersionedStore } from './versioned-store.js'

export interface JetStreamVersionedStoreOptions {
  /** The stream, created when missing. */
  readonly stream: string
  /** Subject prefix of the keys, `<prefix>.<key>`; the stream holds `<prefix>.>`. */
  readonly prefix: string
  /** The connection of the moment; undefined while there is none. */
  readonly connection: () => NatsConnection | undefined
  /** Bound on each JetStream call, in ms. */
  readonly timeoutMs: number
}

export class JetStreamVersionedStore implements VersionedStore {
  #current: { readonly nc: NatsConnection; readonly js: JetStreamClient; readonly jsm: Promise<JetStreamManager> } | undefined

  constructor(private readonly options: JetStreamVersionedStoreOptions) {}

  async ensure(): Promise<void> {
    const jsm = await this.#clients().jsm
    const { stream, prefix } = this.options
    const existing = await jsm.streams.info(stream).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined
      throw error
    })
    if (existing) return
    await jsm.streams.add({
      name: stream,
      subjects: [`${prefix}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: 1,
      num_replicas: 1,
    })
  }

  async get(key: string): Promise<VersionedEntry | undefined> {
    const jsm = await this.#clients().jsm
    const stored = await jsm.streams.getMessage(this.options.stream, { last_by_subj: this.#subject(key) })
    return stored ? { key, value: stored.data, revision: stored.seq } : undefined
  }

  async create(key: string, value: Uint8Array): Promise<number | 'taken'> {
    return this.#write(key, value, 0).then((result) => (result === 'stale' ? 'taken' : result))
  }

  update(key: string, value: Uint8Array, revision: number): Promise<number | 'stale'> {
    return this.#write(key, value, revision)
  }

  async removeIf(key: string, revision: number): Promise<boolean> {
    const jsm = await this.#clients().jsm
    const answer = await jsm.streams.purge(this.options.stream, { filter: this.#subject(key), seq: revision + 1 })
    return answer.purged > 0
  }

  async *entries(): AsyncIterable<VersionedEntry> {
    const { js } = this.#clients()
    const consumer = await js.consumers.get(this.options.stream, { filter_subjects: `${this.options.prefix}.>`, deliver_policy: DeliverPolicy.LastPerSubject })
    const info = await consumer.info(true)
    if (info.num_pending === 0) return
    const messages = await consumer.consume()
    const skip = this.options.prefix.length + 1
    try {
      for await (const m of messages) {
        yield { key: m.subject.slice(skip), value: m.data, revision: m.seq }
        if (m.info.pending === 0) break
      }
    } finally {
      messages.stop()
    }
  }

  async #write(key: string, value: Uint8Array, expected: number): Promise<number | 'stale'> {
    const { js } = this.#clients()
    try {
      const ack = await js.publish(this.#subject(key), value, { expect: { lastSubjectSequence: expected }, timeout: this.options.timeoutMs })
      return ack.seq
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamWrongLastSequence) return 'stale'
      throw error
    }
  }

  #subject(key: string): string {
    return `${this.options.prefix}.${key}`
  }

  /** JetStream clients of the current connection, made again after a reconnect gave a new one. */
  #clients(): { readonly js: JetStreamClient; readonly jsm: Promise<JetStreamManager> } {
    const nc = this.options.connection()
    if (!nc || nc.isClosed()) throw new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected')
    if (this.#current?.nc !== nc) {
      const timeout = this.options.timeoutMs
      const jsm = jetstreamManager(nc, { timeout, checkAPI: false })
      jsm.catch(() => undefined)
      this.#current = { nc, js: jetstream(nc, { timeout }), jsm }
    }
    return this.#current
  }
}
