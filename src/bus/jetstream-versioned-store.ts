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
import { headers } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode } from '../errors.js'
import { chooseReplicas } from './stream-replicas.js'
import type { VersionedEntry, VersionedStore } from './versioned-store.js'

/** What the JetStream API answers: a result, or `error`. */
interface ApiAnswer {
  readonly error?: { readonly code: number; readonly err_code?: number; readonly description: string }
}

const encoder = new TextEncoder()

export interface JetStreamVersionedStoreOptions {
  /** The stream, created when missing. */
  readonly stream: string
  /** Subject prefix of the keys, `<prefix>.<key>`; the stream holds `<prefix>.>`. */
  readonly prefix: string
  /** The connection of the moment; undefined while there is none. */
  readonly connection: () => NatsConnection | undefined
  /** Bound on each JetStream call, in ms. */
  readonly timeoutMs: number
  /** Replicas of the stream when it is created; `auto` from the cluster's size (stream-replicas.ts). */
  readonly replicas: number | 'auto'
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
      num_replicas: chooseReplicas(this.#clients().nc, this.options.replicas).replicas,
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
    // The JetStream API directly: this runs at every user's last disconnect, and the manager's
    // wrapping (validation, option objects) costs more than the request itself.
    const { nc } = this.#clients()
    const body = encoder.encode(JSON.stringify({ filter: this.#subject(key), seq: revision + 1 }))
    const answer = (await nc.request(`$JS.API.STREAM.PURGE.${this.options.stream}`, body, { timeout: this.options.timeoutMs })).json<ApiAnswer & { purged?: number }>()
    if (answer.error) throw refused(answer.error)
    return (answer.purged ?? 0) > 0
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

  /** A conditional publish, read back from the stream's acknowledgement (as `js.publish` does, with less around it). */
  async #write(key: string, value: Uint8Array, expected: number): Promise<number | 'stale'> {
    const { nc } = this.#clients()
    const hdrs = headers()
    hdrs.set('Nats-Expected-Last-Subject-Sequence', String(expected))
    const answer = (await nc.request(this.#subject(key), value, { headers: hdrs, timeout: this.options.timeoutMs })).json<ApiAnswer & { seq?: number }>()
    if (answer.error?.err_code === JetStreamApiCodes.StreamWrongLastSequence) return 'stale'
    if (answer.error) throw refused(answer.error)
    if (typeof answer.seq !== 'number') throw new ImError(ImErrorCode.BusPublishFailed, `JetStream did not acknowledge the write of ${this.#subject(key)}`)
    return answer.seq
  }

  #subject(key: string): string {
    return `${this.options.prefix}.${key}`
  }

  /** JetStream clients of the current connection, made again after a reconnect gave a new one. */
  #clients(): { readonly nc: NatsConnection; readonly js: JetStreamClient; readonly jsm: Promise<JetStreamManager> } {
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

function refused(error: NonNullable<ApiAnswer['error']>): ImError {
  return new ImError(ImErrorCode.BusPublishFailed, `JetStream refused: ${error.description} (${error.err_code ?? error.code})`)
}
