/**
 * Publishing through JetStream for the NATS bus: a publish resolves once the stream holding the
 * subject has stored the message (its PubAck), with `Nats-Msg-Id` so that the stream keeps a retry
 * once (docs/reliability.md, "Durability with JetStream" in docs/service-api.md).
 *
 * Before the first durable publish to a subject we ask JetStream which stream holds it, and cache
 * the answer for a while. Without that check a subject held by no stream but listened to by a
 * service would time out (the service gets the message and never answers with a PubAck), and the
 * client would wait for nothing and then read a vague "timeout".
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode, messageOf } from '../errors.js'

export interface DurablePublisherOptions {
  /** How long to wait for the PubAck (and for the stream lookup), in ms. */
  readonly timeoutMs: number
  /** How long the stream holding a subject is remembered, in ms (default 30 000). */
  readonly lookupTtlMs?: number
}

/** Subjects whose stream we remember at once: past this the oldest are looked up again. */
const MAX_CACHED_SUBJECTS = 10_000
const PREFIX = 'JetStream did not acknowledge'

export class DurablePublisher {
  readonly #nc: NatsConnection
  readonly #js: JetStreamClient
  readonly #timeoutMs: number
  readonly #lookupTtlMs: number
  /** Subject -> when we learnt that a stream holds it. */
  readonly #held = new Map<string, number>()
  #jsm: Promise<JetStreamManager> | undefined

  constructor(nc: NatsConnection, options: DurablePublisherOptions) {
    this.#nc = nc
    this.#timeoutMs = options.timeoutMs
    this.#lookupTtlMs = options.lookupTtlMs ?? 30_000
    this.#js = jetstream(nc, { timeout: options.timeoutMs })
  }

  async publish(subject: string, data: Uint8Array, headers: MsgHdrs | undefined, msgId: string | undefined): Promise<void> {
    await this.#checkHeld(subject)
    try {
      await this.#js.publish(subject, data, {
        timeout: this.#timeoutMs,
        ...(msgId !== undefined ? { msgID: msgId } : {}),
        ...(headers ? { headers } : {}),
      })
    } catch (error) {
      // The stream may have gone away since we looked: look again next time.
      this.#held.delete(subject)
      throw await this.#explain(subject, error)
    }
  }

  async #checkHeld(subject: string): Promise<void> {
    const since = this.#held.get(subject)
    if (since !== undefined && Date.now() - since < this.#lookupTtlMs) return
    try {
      await (await this.#manager()).streams.find(subject)
    } catch (error) {
      throw await this.#explain(subject, error)
    }
    this.#held.delete(subject)
    this.#held.set(subject, Date.now())
    if (this.#held.size > MAX_CACHED_SUBJECTS) this.#held.delete(this.#held.keys().next().value as string)
  }

  /** One clear sentence per failure, the reason a client reads in its Completion. */
  async #explain(subject: string, error: unknown): Promise<ImError> {
    const reason = messageOf(error)
    if (this.#nc.isClosed() || this.#nc.isDraining()) {
      return new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected', { cause: error })
    }
    let text: string
    if (/no stream matches subject/i.test(reason)) text = `${PREFIX}: no stream holds subject ${subject}`
    else if (/jetstream is not enabled|no responders/i.test(reason)) text = `${PREFIX}: JetStream is not enabled on the NATS server (subject ${subject})`
    else if (/timeout|timed out/i.test(reason)) text = `${PREFIX}: no acknowledgement for ${subject} within ${this.#timeoutMs} ms`
    else text = `${PREFIX}: ${reason} (subject ${subject})`
    return new ImError(ImErrorCode.BusPublishFailed, text, { cause: error })
  }

  #manager(): Promise<JetStreamManager> {
    this.#jsm ??= jetstreamManager(this.#nc, { timeout: this.#timeoutMs, checkAPI: false }).catch((error: unknown) => {
      this.#jsm = undefined
      throw error
    })
    return this.#jsm
  }
}

