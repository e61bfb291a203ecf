/**
 * Presence for one hub on one node: the roster of live nodes, the scatter/gather answers, the
 * disconnect command and the online/offline events, started and stopped together. It is the
 * lifetime manager's observer of users arriving and leaving; it passes those on to the events
 * only while the shared table can be used (JetStream there), and puts everything right when it
 * becomes usable again.
 */
import type { Bus, BusStatus } from '../../bus/bus.js'
import type { PresenceSubjects } from '../../bus/subjects.js'
import type { VersionedStore } from '../../bus/versioned-store.js'
import type { Logger } from '../../logger.js'
import type { LifetimeManager, UserTransitions } from '../lifetime-manager.js'
import { DisconnectCommands } from './disconnect-command.js'
import type { PresentConnection } from './local-presence.js'
import { NodeRoster } from './node-roster.js'
import { PresenceQueries } from './presence-queries.js'
import { UserPresenceEvents } from './user-presence-events.js'
import { messageOf } from '../../errors.js'

export interface HubPresenceOptions {
  readonly bus: Bus
  readonly hub: string
  readonly subjects: PresenceSubjects
  /** This node's tag (new with every start) and name. */
  readonly tag: string
  readonly nodeId: string
  readonly leaseMs: number
  readonly gatherTimeoutMs: number
  /** See UserPresenceEvents. */
  readonly offlineDelayMs: number
  /** Replicas of the presence stream when it is created (`jetstream.replicas`). */
  readonly replicas: number | 'auto'
  /** A malformed request or command (for metrics). */
  readonly refused: () => void
  readonly logger: Logger
}

export class HubPresence implements UserTransitions {
  private lifetime: LifetimeManager<PresentConnection> | undefined
  private readonly roster: NodeRoster
  private queries: PresenceQueries | undefined
  private disconnects: DisconnectCommands | undefined
  private readonly events: UserPresenceEvents | undefined
  private readonly store: VersionedStore | undefined
  /** True while the shared table is known usable on the current connection. */
  private eventsOn = false
  private stopStatus: (() => void) | undefined
  private sweepTimer: NodeJS.Timeout | undefined

  constructor(private readonly options: HubPresenceOptions) {
    this.roster = new NodeRoster({
      bus: options.bus,
      subject: options.subjects.alive,
      tag: options.tag,
      leaseMs: options.leaseMs,
      gone: () => void this.events?.sweep(),
      logger: options.logger,
    })
    const store = (this.store = options.bus.versionedStore?.(`IM_PRESENCE_${options.hub}`, options.subjects.state, { replicas: options.replicas }))
    this.events = store
      ? new UserPresenceEvents({
          bus: options.bus,
          store,
          subjects: options.subjects,
          tag: options.tag,
          lifetime: () => this.lifetime!,
          roster: () => this.roster,
          retryMs: options.leaseMs,
          offlineDelayMs: options.offlineDelayMs,
          logger: options.logger,
        })
      : undefined
  }

  arrived(userId: string): void {
    if (this.eventsOn) this.events?.arrived(userId)
  }

  left(userId: string): void {
    if (this.eventsOn) this.events?.left(userId)
  }

  /** Starts answering for `lifetime`'s connections; returns itself. */
  start(lifetime: LifetimeManager<PresentConnection>): this {
    const { bus, subjects, logger, refused } = this.options
    this.lifetime = lifetime
    this.roster.start()
    this.queries = new PresenceQueries({ ...this.options, lifetime, roster: this.roster, refused })
    this.queries.start()
    this.disconnects = new DisconnectCommands({ bus, subject: subjects.disconnect, lifetime, refused, logger })
    this.disconnects.start()
    this.stopStatus = bus.onStatusChange((status) => this.onStatus(status))
    if (bus.status().state === 'connected') this.onStatus(bus.status())
    // Entries of nodes that died before this one started are swept once it has heard every live node.
    this.sweepTimer = setTimeout(() => void this.events?.sweep(), this.options.leaseMs * 4)
    this.sweepTimer.unref()
    return this
  }

  /** Stops answering, and writes what this node's closed connections changed (at most `timeoutMs`). */
  async stop(timeoutMs: number): Promise<void> {
    clearTimeout(this.sweepTimer)
    this.roster.stop()
    this.queries?.stop()
    this.disconnects?.stop()
    await this.events?.stop(timeoutMs)
    this.stopStatus?.()
  }

  private onStatus(status: BusStatus): void {
    if (status.state !== 'connected') {
      this.eventsOn = false
      return
    }
    // Heard at once, rather than a lease interval later.
    this.roster.tick()
    const events = this.events
    if (!events || this.eventsOn) return
    this.storeReady().then((ready) => {
      if (!ready || this.options.bus.status().state !== 'connected') return
      this.eventsOn = true
      events.resync()
    })
  }

  private async storeReady(): Promise<boolean> {
    try {
      await this.store?.ensure()
      return true
    } catch (error) {
      this.options.logger.warn('user online/offline events are off: the presence stream cannot be used (is JetStream enabled?); presence requests and disconnect work', {
        hub: this.options.hub,
        error: messageOf(error),
      })
      return false
    }
  }
}
