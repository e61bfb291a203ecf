/**
 * The message bus seam: NATS in production, an in-process bus for a first run with no NATS.
 * Hubs and the server talk to this interface only.
 */
import type { VersionedStore } from './versioned-store.js'

export interface BusMessage {
  readonly subject: string
  readonly data: Uint8Array
  /** Headers as received (NATS headers), if any. */
  readonly headers?: ReadonlyMap<string, string>
  /** Where a request wants its answer (NATS request/reply): publish the reply there. */
  readonly reply?: string
  /** The message's sequence in the JetStream stream it was taken from; absent for core NATS. */
  readonly sequence?: number
}

/**
 * Handles one message. A handler may return a promise: messages taken from a JetStream stream are
 * acknowledged once it settles, so a node that dies mid-way gets them again. Core NATS ignores it.
 */
export type BusHandler = (message: BusMessage) => void | Promise<unknown>

export interface BusSubscription {
  readonly subject: string
  unsubscribe(): void
}

/**
 * `connected`: messages flow. `connecting`: never connected yet, still trying.
 * `reconnecting`: was connected, lost it, trying again. `closed`: closed by us, for good.
 */
export type BusState = 'connecting' | 'connected' | 'reconnecting' | 'closed'

export interface BusStatus {
  readonly kind: 'nats' | 'embedded'
  readonly state: BusState
  /** The server we are connected to (or trying), without credentials. */
  readonly server?: string
  /** The JetStream stream the node takes subjects from, when one is configured (NATS only). */
  readonly stream?: StreamStatus
}

/**
 * `starting`: the stream and this node's consumer are being created or verified on the current
 * connection. `ready`: messages come from the stream. `unavailable`: JetStream cannot be used;
 * the node takes the subjects from core NATS and tries the stream again (`reason` says why).
 * `recovering`: the stream worked, but this node's consumer stalled (or is catching up after
 * being unavailable); the node takes the subjects from core NATS, deduplicated against the
 * stream, until the consumer has caught up.
 */
export interface StreamStatus {
  readonly name: string
  readonly state: 'starting' | 'ready' | 'unavailable' | 'recovering'
  readonly reason?: string
}

export interface PublishOptions {
  readonly headers?: Record<string, string>
  /** Where the receiver should answer (request/reply). */
  readonly reply?: string
  /**
   * false: resolve as soon as the bus has taken the message, without the round trip that
   * confirms the server has it (for events nobody waits on: a confirmation costs a PING and a
   * socket write of its own). Default true.
   */
  readonly confirm?: boolean
  /**
   * Publish through JetStream: resolves only once the stream that holds the subject acknowledged
   * storing the message, and rejects with IM_BUS_PUBLISH_FAILED when no stream holds it or no
   * acknowledgement comes in time. Needs NATS: the embedded bus treats it as a plain publish.
   */
  readonly durable?: boolean
  /**
   * `Nats-Msg-Id` of a durable publish: the stream stores a message with an id it already holds
   * (within its duplicate window) only once, so a retry is not a duplicate.
   */
  readonly msgId?: string
}

export interface Bus {
  /**
   * Hands a message to the bus. Resolves once the bus has taken it (for NATS: the server has
   * acknowledged a flush that covers it). Rejects with ImError `IM_BUS_UNAVAILABLE` at once when
   * the bus is not connected: nothing is queued without bound while it is down.
   */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<void>
  /**
   * Subscribes for as long as the bus lives: the subscription survives reconnects and is made
   * as soon as the bus first connects. `queue` makes it a queue-group subscription.
   */
  subscribe(subject: string, handler: BusHandler, options?: { queue?: string }): BusSubscription
  /**
   * Publishes and waits for the first answer (NATS request/reply). Rejects with
   * IM_BUS_NO_RESPONDERS when no one listens on `subject`, IM_BUS_TIMEOUT when a listener does not
   * answer within `timeoutMs`, and IM_BUS_UNAVAILABLE when the bus is down or the request fails otherwise.
   */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>
  /**
   * Resolves once every subscription made so far is in effect at the server, so that a message
   * published by anyone after this cannot be missed. While not connected it resolves at once
   * (subscriptions are made on connect).
   */
  ready(): Promise<void>
  status(): BusStatus
  /**
   * Messages taken from a JetStream stream that were skipped as repeats (a redelivery of one
   * already handled) since start; absent on a bus that takes nothing from a stream.
   */
  readonly duplicatesSkipped?: number
  /**
   * A table with compare-and-set shared by every node on this bus (versioned-store.ts): `name`
   * names where it lives (a JetStream stream), `prefix` the subjects of its keys. Absent on a bus
   * that cannot share one.
   */
  versionedStore?(name: string, prefix: string, options?: { readonly replicas?: number | 'auto' }): VersionedStore
  /** Called on every state change. Returns a function that removes the listener. */
  onStatusChange(listener: (status: BusStatus) => void): () => void
  /** Drains subscriptions and closes for good. */
  close(): Promise<void>
}
