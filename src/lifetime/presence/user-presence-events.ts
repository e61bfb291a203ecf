/**
 * `im.<hub>.user.online` and `.offline`, once per user for the whole cluster. A shared table
 * (versioned-store.ts) holds, per user, the tags of the nodes that hold a connection of that user.
 * A node writes only at its own transitions for a user (first connection here, last one gone),
 * after the handshake and never in its way, with compare-and-set: the write that makes the entry
 * exist publishes `online`, the one that removes it publishes `offline`. Lost races read again.
 *
 * A node killed without a goodbye is healed by the others: the roster (node-roster.ts) counts it
 * gone after a few silent lease intervals, and one node (the lowest tag alive) takes its tag out
 * of every entry, publishing `offline` for the users it was the last node of.
 */
import type { Bus } from '../../bus/bus.js'
import type { VersionedStore } from '../../bus/versioned-store.js'
import type { Logger } from '../../logger.js'
import { ImError, ImErrorCode } from '../../errors.js'
import type { LifetimeManager, UserTransitions } from '../lifetime-manager.js'
import type { PresentConnection } from './local-presence.js'
import type { NodeRoster } from './node-roster.js'

export interface UserPresenceEventsOptions {
  readonly bus: Bus
  readonly store: VersionedStore
  readonly subjects: { readonly online: string; readonly offline: string }
  readonly tag: string
  /** Read lazily: the lifetime manager is made with this as its observer. */
  readonly lifetime: () => LifetimeManager<PresentConnection>
  readonly roster: () => NodeRoster
  /** Pause before writes that failed (NATS down, JetStream busy) are tried again. */
  readonly retryMs: number
  /**
   * How long a user's last connection here must stay closed before this node takes itself out
   * of the user's entry: a reload or a reconnect within it writes nothing and publishes nothing.
   */
  readonly offlineDelayMs: number
  readonly logger: Logger
}

/** The entry this node last wrote or read for a user. */
interface Entry {
  readonly revision: number
  readonly nodes: readonly string[]
}

/** Tries of one reconcile before it counts as failed (each lost race costs one). */
const MAX_ATTEMPTS = 16
/** How long a transition waits for others to share its write to NATS. */
const BATCH_MS = 5
/** Users written at once: a reconnect with 100k users here must not fire 100k requests at once. */
const MAX_IN_FLIGHT = 64
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class UserPresenceEvents implements UserTransitions {
  /** Users this node is written in for, with the entry as it last saw it (undefined: read first). */
  private readonly written = new Map<string, Entry | undefined>()
  private readonly running = new Set<string>()
  private readonly again = new Set<string>()
  /** Users waiting for the batch to start (see soon). */
  private readonly batch = new Set<string>()
  private batchTimer: NodeJS.Timeout | undefined
  /** Users waiting for a free slot, in arrival order. */
  private readonly queued = new Set<string>()
  private readonly failed = new Set<string>()
  private retry: NodeJS.Timeout | undefined
  private resweep: NodeJS.Timeout | undefined
  /** Users whose last connection here closed, with when the delay before writing it ends. */
  private readonly leaving = new Map<string, number>()
  private leaveTimer: NodeJS.Timeout | undefined
  private stopped = false

  constructor(private readonly options: UserPresenceEventsOptions) {}

  arrived(userId: string): void {
    // Back within the delay: the departure is forgotten, and the next one waits a whole delay again.
    if (this.leaving.delete(userId)) return
    this.soon(userId)
  }

  /**
   * Reconciles within BATCH_MS, together with the other users of that moment: their requests
   * leave in one socket write and their answers come back together, where one write per connect
   * cost more than the request itself.
   */
  private soon(userId: string): void {
    this.batch.add(userId)
    this.batchTimer ??= setTimeout(() => {
      this.batchTimer = undefined
      const users = [...this.batch]
      this.batch.clear()
      for (const user of users) this.reconcile(user)
    }, BATCH_MS)
  }

  left(userId: string): void {
    if (this.options.offlineDelayMs === 0) return this.soon(userId)
    // Insertion order is due order (one delay for all): the head is always the next due.
    this.leaving.delete(userId)
    this.leaving.set(userId, Date.now() + this.options.offlineDelayMs)
    this.leaveTimer ??= setTimeout(() => this.leaveDue(), this.options.offlineDelayMs)
  }

  /**
   * The node stops: writes the departures still waiting out their delay now (its connections are
   * closed by then), waits at most `timeoutMs` for the writes under way, then stops for good.
   */
  async stop(timeoutMs: number): Promise<void> {
    clearTimeout(this.leaveTimer)
    clearTimeout(this.batchTimer)
    this.leaveTimer = this.batchTimer = undefined
    const leaving = [...this.leaving.keys(), ...this.batch]
    this.leaving.clear()
    this.batch.clear()
    for (const userId of leaving) this.reconcile(userId)
    const deadline = Date.now() + timeoutMs
    while (this.running.size + this.queued.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
    this.stopped = true
    clearTimeout(this.retry)
    clearTimeout(this.resweep)
  }

  /** Writes the departures whose delay has passed, and waits for the next. */
  private leaveDue(): void {
    this.leaveTimer = undefined
    const now = Date.now()
    for (const [userId, due] of this.leaving) {
      // Those due within a batch's time go now, together (see soon).
      if (due > now + BATCH_MS) {
        this.leaveTimer = setTimeout(() => this.leaveDue(), due - now)
        return
      }
      this.leaving.delete(userId)
      // Back meanwhile: nothing to write.
      if (this.options.lifetime().connectionsOf(userId) === undefined) this.reconcile(userId)
    }
  }

  /**
   * NATS came back, or others may have written for this node: read every user this node holds
   * or was written in for again, and put right what differs.
   */
  resync(): void {
    for (const userId of this.written.keys()) this.written.set(userId, undefined)
    for (const userId of [...this.options.lifetime().userIds(), ...this.written.keys()]) this.reconcile(userId)
  }

  /**
   * Takes every tag the roster does not count alive out of the table (only the lowest tag alive
   * does), once the roster has heard the bus long enough to know every live node.
   */
  async sweep(): Promise<void> {
    const roster = this.options.roster()
    if (this.stopped) return
    if (!roster.settled) return this.sweepLater()
    const alive = roster.alive()
    if ([...alive].sort()[0] !== this.options.tag) return
    const live = new Set(alive)
    let swept = 0
    try {
      for await (const entry of this.options.store.entries()) {
        const nodes = readNodes(entry.value)
        if (nodes.every((t) => live.has(t))) continue
        await this.takeOut(entry.key, { revision: entry.revision, nodes }, live)
        swept++
      }
    } catch (error) {
      this.options.logger.warn('presence sweep failed; trying again', { error })
      this.sweepLater()
    }
    if (swept > 0) this.options.logger.info('presence entries of gone nodes swept', { users: swept })
  }

  private sweepLater(): void {
    clearTimeout(this.resweep)
    this.resweep = setTimeout(() => void this.sweep(), this.options.retryMs)
    this.resweep.unref()
  }

  private async takeOut(key: string, entry: Entry, live: ReadonlySet<string>): Promise<void> {
    let current: Entry | undefined = entry
    for (let attempt = 0; current && attempt < MAX_ATTEMPTS; attempt++) {
      const nodes: string[] = current.nodes.filter((t) => live.has(t))
      if (nodes.length === current.nodes.length) return
      if (nodes.length === 0) {
        if (await this.options.store.removeIf(key, current.revision)) return this.publish(this.options.subjects.offline, userOf(key))
      } else if ((await this.options.store.update(key, writeNodes(nodes), current.revision)) !== 'stale') {
        return
      }
      current = await this.read(key)
    }
  }

  /** Brings the table in line with whether this node holds the user, one write at a time per user. */
  private reconcile(userId: string): void {
    if (this.stopped) return
    if (this.running.has(userId)) {
      this.again.add(userId)
      return
    }
    if (this.running.size >= MAX_IN_FLIGHT) {
      this.queued.add(userId)
      return
    }
    this.running.add(userId)
    void (async () => {
      try {
        do {
          this.again.delete(userId)
          await this.settle(userId)
        } while (this.again.has(userId) && !this.stopped)
      } catch (error) {
        this.failed.add(userId)
        this.options.logger.debug('presence write failed; retrying', { error })
        this.retry ??= setTimeout(() => this.retryFailed(), this.options.retryMs)
      } finally {
        this.running.delete(userId)
        const next = this.queued.values().next()
        if (!next.done) {
          this.queued.delete(next.value)
          this.reconcile(next.value)
        }
      }
    })()
  }

  private retryFailed(): void {
    this.retry = undefined
    const users = [...this.failed]
    this.failed.clear()
    for (const userId of users) this.reconcile(userId)
  }

  private async settle(userId: string): Promise<void> {
    const { store, tag } = this.options
    const key = keyOf(userId)
    const written = this.written.has(userId)
    let entry = written ? this.written.get(userId) ?? (await this.read(key)) : undefined
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const here = this.options.lifetime().connectionsOf(userId) !== undefined
      if (here) {
        if (entry?.nodes.includes(tag)) return void this.written.set(userId, entry)
        const nodes = entry ? [...entry.nodes, tag] : [tag]
        const revision = entry ? await store.update(key, writeNodes(nodes), entry.revision) : await store.create(key, writeNodes(nodes))
        if (typeof revision === 'number') {
          this.written.set(userId, { revision, nodes })
          if (!entry) this.publish(this.options.subjects.online, userId)
          return
        }
      } else {
        if (!entry?.nodes.includes(tag)) return void this.written.delete(userId)
        const nodes = entry.nodes.filter((t) => t !== tag)
        if (nodes.length === 0) {
          if (await store.removeIf(key, entry.revision)) {
            this.written.delete(userId)
            return this.publish(this.options.subjects.offline, userId)
          }
        } else if ((await store.update(key, writeNodes(nodes), entry.revision)) !== 'stale') {
          return void this.written.delete(userId)
        }
      }
      // Another node wrote since: read, and try again from what is there now.
      entry = await this.read(key)
    }
    throw new ImError(ImErrorCode.BusPublishFailed, `the presence entry of a user kept changing over ${MAX_ATTEMPTS} attempts`)
  }

  private async read(key: string): Promise<Entry | undefined> {
    const stored = await this.options.store.get(key)
    return stored ? { revision: stored.revision, nodes: readNodes(stored.value) } : undefined
  }

  private publish(subject: string, userId: string): void {
    const event = encoder.encode(JSON.stringify({ userId, timestamp: new Date().toISOString() }))
    this.options.bus.publish(subject, event, { confirm: false }).catch((error: unknown) => {
      this.options.logger.warn('presence event not published', { subject, error })
    })
  }
}

/** A user id as one subject token: base64url of its UTF-8 bytes. */
export function keyOf(userId: string): string {
  return Buffer.from(userId, 'utf8').toString('base64url')
}

export function userOf(key: string): string {
  return Buffer.from(key, 'base64url').toString('utf8')
}

function writeNodes(nodes: readonly string[]): Uint8Array {
  return encoder.encode(JSON.stringify(nodes))
}

function readNodes(value: Uint8Array): string[] {
  try {
    const nodes: unknown = JSON.parse(decoder.decode(value))
    return Array.isArray(nodes) ? nodes.filter((t): t is string => typeof t === 'string') : []
  } catch {
    return []
  }
}
