/**
 * The single-node bus: in-process publish/subscribe for a first run without NATS. It keeps the
 * observable behaviour of the NATS bus (wildcards, queue groups, asynchronous delivery, the same
 * errors) so that code tested against one works on the other; the bus contract suite checks both.
 */
import { randomUUID } from 'node:crypto'
import type { Bus, BusHandler, BusMessage, BusState, BusStatus, BusSubscription, PublishOptions } from './bus.js'
import { ImError, ImErrorCode } from '../errors.js'
import { silentLogger } from '../logger.js'
import { StatusListeners } from './status-listeners.js'
import type { Logger } from '../logger.js'
import { validateHeaders } from './headers.js'
import { subjectMatches, validateQueueGroup, validateSubject } from './subjects.js'
import { MemoryVersionedStore } from './versioned-store.js'
import type { VersionedStore } from './versioned-store.js'

export interface EmbeddedBusOptions {
  readonly logger?: Logger
}

interface Entry {
  readonly subject: string
  readonly queue: string | undefined
  readonly handler: BusHandler
  active: boolean
}

interface Delivery {
  readonly entry: Entry
  readonly message: BusMessage
}

export class EmbeddedBus implements Bus {
  readonly #logger: Logger
  readonly #entries = new Set<Entry>()
  readonly #listeners: StatusListeners
  /** Next member index per queue group (subject + queue name, as NATS keys them). */
  readonly #roundRobin = new Map<string, number>()
  readonly #stores = new Map<string, VersionedStore>()
  #pending: Delivery[] = []
  #scheduled: NodeJS.Immediate | undefined
  #state: BusState = 'connected'
  #closing = false

  constructor(options: EmbeddedBusOptions = {}) {
    this.#logger = options.logger ?? silentLogger
    this.#listeners = new StatusListeners(this.#logger)
  }

  /**
   * `durable` and `msgId` are accepted and have no effect: there is no stream in-process, so a
   * durable publish is a plain one here. Durability needs NATS with JetStream.
   */
  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    if (this.#closing) return Promise.reject(new ImError(ImErrorCode.BusUnavailable, 'the bus is closed'))
    const subjectProblem = validateSubject(subject, { wildcards: false })
    if (subjectProblem !== undefined) {
      return Promise.reject(new ImError(ImErrorCode.InvalidTopic, `cannot publish to ${JSON.stringify(subject)}: ${subjectProblem}`))
    }
    const headerProblem = options.headers ? validateHeaders(options.headers) : undefined
    if (headerProblem !== undefined) {
      return Promise.reject(new ImError(ImErrorCode.BusPublishFailed, headerProblem))
    }
    // Copy like a network bus would: the caller may reuse its buffer once publish resolves.
    const message: BusMessage = {
      subject,
      data: data.slice(),
      headers: options.headers && Object.keys(options.headers).length > 0 ? new Map(Object.entries(options.headers)) : undefined,
      ...(options.reply ? { reply: options.reply } : {}),
    }
    // Recipients are chosen now, as the NATS server would when the message reaches it.
    const groups = new Map<string, Entry[]>()
    for (const entry of this.#entries) {
      if (!subjectMatches(entry.subject, subject)) continue
      if (entry.queue === undefined) {
        this.#pending.push({ entry, message })
        continue
      }
      const key = `${entry.subject}\u0000${entry.queue}`
      const members = groups.get(key)
      if (members) members.push(entry)
      else groups.set(key, [entry])
    }
    for (const [key, members] of groups) {
      const next = this.#roundRobin.get(key) ?? 0
      this.#roundRobin.set(key, next + 1)
      this.#pending.push({ entry: members[next % members.length] as Entry, message })
    }
    this.#schedule()
    return Promise.resolve()
  }

  subscribe(subject: string, handler: BusHandler, options: { queue?: string } = {}): BusSubscription {
    if (this.#closing) throw new ImError(ImErrorCode.BusUnavailable, 'the bus is closed')
    const problem = validateSubject(subject, { wildcards: true }) ?? validateQueueGroup(options.queue)
    if (problem !== undefined) {
      throw new ImError(ImErrorCode.InvalidTopic, `cannot subscribe to ${JSON.stringify(subject)}: ${problem}`)
    }
    const entry: Entry = { subject, queue: options.queue, handler, active: true }
    this.#entries.add(entry)
    return {
      subject,
      unsubscribe: () => {
        entry.active = false
        this.#entries.delete(entry)
      },
    }
  }

  status(): BusStatus {
    return { kind: 'embedded', state: this.#state }
  }

  onStatusChange(listener: (status: BusStatus) => void): () => void {
    return this.#listeners.add(listener)
  }

  /** Delivers what was already published (as a NATS drain would), then stops for good. */
  /** Request/reply in-process: a one-off inbox subscription takes the first answer. */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    // As the NATS server does, a request nobody subscribes to fails at once instead of timing out.
    if (!this.#closing && ![...this.#entries].some((entry) => subjectMatches(entry.subject, subject))) {
      return Promise.reject(new ImError(ImErrorCode.BusNoResponders, `no one listens on ${subject}`))
    }
    const inbox = `_INBOX.${randomUUID().replaceAll('-', '')}`
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        subscription.unsubscribe()
        reject(new ImError(ImErrorCode.BusTimeout, `no answer on ${subject} within ${timeoutMs} ms`))
      }, timeoutMs)
      const subscription = this.subscribe(inbox, (message) => {
        clearTimeout(timer)
        subscription.unsubscribe()
        resolve(message.data)
      })
      this.publish(subject, data, { reply: inbox }).catch((error: unknown) => {
        clearTimeout(timer)
        subscription.unsubscribe()
        reject(error)
      })
    })
  }

  /** One node shares with no one: a map per name. */
  versionedStore(name: string): VersionedStore {
    let store = this.#stores.get(name)
    if (!store) this.#stores.set(name, (store = new MemoryVersionedStore()))
    return store
  }

  /** Subscriptions take effect at once in-process. */
  async ready(): Promise<void> {}

  async close(): Promise<void> {
    if (this.#closing) return
    this.#closing = true
    await new Promise<void>((resolve) => setImmediate(resolve))
    this.#deliver()
    for (const entry of this.#entries) entry.active = false
    this.#entries.clear()
    this.#state = 'closed'
    this.#listeners.notify(this.status())
  }

  /** One timer per burst: delivery happens outside publish's call stack, like a network round trip. */
  #schedule(): void {
    if (this.#scheduled !== undefined) return
    this.#scheduled = setImmediate(() => this.#deliver())
  }

  #deliver(): void {
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    const batch = this.#pending
    this.#pending = []
    for (const { entry, message } of batch) {
      if (!entry.active) continue
      try {
        entry.handler(message)
      } catch (error) {
        this.#logger.error('bus handler threw; the subscription goes on', { subject: message.subject, error })
      }
    }
  }
}

/** Creates the single-node bus; async to match `createNatsBus`. */
export function createEmbeddedBus(options: EmbeddedBusOptions = {}): Promise<EmbeddedBus> {
  return Promise.resolve(new EmbeddedBus(options))
}
