/**
 * This node's connections of one hub, indexed by id, user and group, and delivery to them
 * (the role of ASP.NET Core's DefaultHubLifetimeManager). A message is serialized once per hub
 * protocol in use, and the same frame goes to every recipient, at once or shaped (spread over a
 * window, collapsed by key) by the DeliveryShaper.
 */
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { MessageType } from '../protocol/messages.js'
import type { InvocationMessage } from '../protocol/messages.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { Delivery, DeliveryTarget, GroupChange } from './delivery.js'
import { DeliveryShaper, ShapingLimits } from './delivery-shaping.js'
import type { DeliveryShaperOptions, DeliveryShaping, ShapingStats } from './delivery-shaping.js'
import type { DurableGate } from './durable-gate.js'

/** What the lifetime manager needs of a connection. */
export interface DeliverableConnection {
  readonly connectionId: string
  readonly userId: string | undefined
  readonly protocol: HubProtocol
  /** Queues an already-serialized frame of this connection's protocol. */
  sendFrame(frame: string | Uint8Array): void
}

export interface LifetimeManagerOptions {
  /** Largest number of groups one connection may join. */
  readonly maxGroupsPerConnection?: number
  /** Bounds of spreading and collapsing (see DeliveryShaper). */
  readonly shaping?: DeliveryShaperOptions
  /** Offline delivery: durable user messages go through it (once each, after the replay of a new connection). */
  readonly durable?: DurableGate
  /** Told when a user's first connection on this node opens and when its last one closes. */
  readonly users?: UserTransitions
}

/** A user's first connection on this node opened (`arrived`), or its last one closed (`left`). */
export interface UserTransitions {
  arrived(userId: string): void
  left(userId: string): void
}

export class LifetimeManager<C extends DeliverableConnection = DeliverableConnection> implements Delivery {
  private readonly connections = new Map<string, C>()
  private readonly byUser = new Map<string, Set<C>>()
  private readonly byGroup = new Map<string, Set<C>>()
  private readonly groupsOf = new Map<string, Set<string>>()
  private readonly maxGroups: number
  private readonly shaper: DeliveryShaper
  private readonly users: UserTransitions | undefined
  private readonly durable: DurableGate | undefined

  constructor(options: LifetimeManagerOptions = {}) {
    this.maxGroups = options.maxGroupsPerConnection ?? 128
    this.shaper = new DeliveryShaper(options.shaping)
    this.users = options.users
    this.durable = options.durable
  }

  /** What spreading and collapsing hold and have refused, for metrics. */
  get shapingStats(): ShapingStats {
    return this.shaper.stats
  }

  /** Drops messages still waiting in a collapse window or spreading (the node is stopping). */
  dispose(): void {
    this.shaper.dispose()
  }

  get size(): number {
    return this.connections.size
  }

  /** `moved`: taken over from another node (stateful reconnect), so nothing kept is replayed to it. */
  add(connection: C, origin: 'connected' | 'moved' = 'connected'): void {
    this.connections.set(connection.connectionId, connection)
    if (connection.userId !== undefined && addTo(this.byUser, connection.userId, connection)) this.users?.arrived(connection.userId)
    // In the same turn as the indexing: a durable message handled after it waits for the replay.
    if (origin === 'moved') this.durable?.moved(connection)
    else this.durable?.connected(connection)
  }

  remove(connection: C): void {
    if (this.connections.get(connection.connectionId) !== connection) return
    this.connections.delete(connection.connectionId)
    this.durable?.removed(connection)
    if (connection.userId !== undefined && removeFrom(this.byUser, connection.userId, connection)) this.users?.left(connection.userId)
    const groups = this.groupsOf.get(connection.connectionId)
    if (groups) {
      for (const group of groups) removeFrom(this.byGroup, group, connection)
      this.groupsOf.delete(connection.connectionId)
    }
  }

  get(connectionId: string): C | undefined {
    return this.connections.get(connectionId)
  }

  /** This node's connections of `userId`, if it has any (live: do not keep). */
  connectionsOf(userId: string): ReadonlySet<C> | undefined {
    return this.byUser.get(userId)
  }

  /** This node's connections in `group`, if any (live: do not keep). */
  membersOf(group: string): ReadonlySet<C> | undefined {
    return this.byGroup.get(group)
  }

  /** The users with a connection on this node. */
  userIds(): IterableIterator<string> {
    return this.byUser.keys()
  }

  /** Groups the connection is in (a copy). */
  groupsOfConnection(connectionId: string): string[] {
    return [...(this.groupsOf.get(connectionId) ?? [])]
  }

  async send(target: DeliveryTarget, method: string, args: readonly unknown[], shaping?: DeliveryShaping): Promise<void> {
    this.deliver(target, method, args, shaping)
  }

  /**
   * Delivers to this node's connections, at once or as `shaping` says. Returns how many
   * connections got the message or are scheduled to (0 while it waits in a collapse window).
   */
  deliver(target: DeliveryTarget, method: string, args: readonly unknown[], shaping?: DeliveryShaping): number {
    const durable = shaping?.durableSequence
    if (durable !== undefined && this.durable && target.kind === 'users') return this.deliverDurable(target, method, args, durable)
    const spreadMs = shaping?.spreadMs ?? 0
    if (shaping?.collapseKey === undefined) return this.deliverSpread(target, method, args, spreadMs)
    // The same key sent to another target is another message (a refresh for tenant A does not
    // replace tenant B's); the last message of the window decides how it is spread.
    const key = `${shaping.collapseKey}\u0000${targetKey(target)}`
    const windowMs = shaping.collapseWindowMs ?? ShapingLimits.defaultCollapseWindowMs
    this.shaper.collapse(key, windowMs, () => this.deliverSpread(target, method, args, spreadMs))
    return 0
  }

  private deliverSpread(target: DeliveryTarget, method: string, args: readonly unknown[], spreadMs: number): number {
    const message: InvocationMessage = { type: MessageType.Invocation, target: method, arguments: args as unknown[] }
    const frames = new FrameCache(message)
    const gate = this.durable
    // With offline delivery, a connection whose replay runs gets its pushes after the replayed messages.
    const push = gate
      ? (connection: DeliverableConnection): void => gate.push(connection, frames.for(connection.protocol))
      : (connection: DeliverableConnection): void => connection.sendFrame(frames.for(connection.protocol))
    if (spreadMs === 0) return this.forEachRecipient(target, push)
    const recipients: C[] = []
    this.forEachRecipient(target, (connection) => recipients.push(connection))
    // Recipients are taken now; one that closes before its slice is skipped.
    return this.shaper.spread(recipients, spreadMs, push, (connection) => this.connections.get(connection.connectionId) === connection)
  }

  /** A durable user message: at once, never spread or collapsed, each connection once (DurableGate). */
  private deliverDurable(target: DeliveryTarget, method: string, args: readonly unknown[], sequence: number): number {
    const gate = this.durable!
    gate.seen(sequence)
    const frames = new FrameCache({ type: MessageType.Invocation, target: method, arguments: args as unknown[] })
    return this.forEachRecipient(target, (connection) => gate.offer(connection, sequence, frames.for(connection.protocol)))
  }

  /** Calls `visit` once for each of this node's connections that `target` names; returns how many. */
  private forEachRecipient(target: DeliveryTarget, visit: (connection: C) => void): number {
    let count = 0
    const push = (connection: C): void => {
      visit(connection)
      count++
    }
    switch (target.kind) {
      case 'all': {
        const except = toSet(target.except)
        for (const connection of this.connections.values()) {
          if (!except || !except.has(connection.connectionId)) push(connection)
        }
        break
      }
      case 'connections':
        for (const id of unique(target.ids)) {
          const connection = this.connections.get(id)
          if (connection) push(connection)
        }
        break
      case 'users':
        for (const id of unique(target.ids)) {
          const set = this.byUser.get(id)
          if (set) for (const connection of set) push(connection)
        }
        break
      case 'groups': {
        const except = toSet(target.except)
        // A connection in two of the named groups still gets the message once.
        const seen = target.names.length > 1 ? new Set<C>() : undefined
        for (const name of target.names) {
          const set = this.byGroup.get(name)
          if (!set) continue
          for (const connection of set) {
            if (except?.has(connection.connectionId)) continue
            if (seen) {
              if (seen.has(connection)) continue
              seen.add(connection)
            }
            push(connection)
          }
        }
        break
      }
    }
    return count
  }

  async changeGroup(change: GroupChange): Promise<void> {
    this.applyGroupChange(change)
  }

  /**
   * Applies a membership change to this node's connections; returns how many changed. A
   * connection already in the maximum number of groups is left out, and then the change throws
   * IM_LIMIT_EXCEEDED naming it (after the others were changed).
   */
  applyGroupChange(change: GroupChange): number {
    const connections =
      'connectionId' in change
        ? [this.connections.get(change.connectionId)].filter((c) => c !== undefined)
        : [...(this.byUser.get(change.userId) ?? [])]
    let changed = 0
    const full: string[] = []
    for (const connection of connections) {
      const result = change.op === 'add' ? this.join(connection, change.group) : this.leave(connection, change.group)
      if (result === 'full') full.push(connection.connectionId)
      else if (result) changed++
    }
    if (full.length > 0) {
      throw new ImError(ImErrorCode.LimitExceeded, `connection ${full.join(', ')} is already in ${this.maxGroups} groups; not added to "${change.group}"`)
    }
    return changed
  }

  private join(connection: C, group: string): boolean | 'full' {
    let groups = this.groupsOf.get(connection.connectionId)
    if (groups?.has(group)) return false
    if (groups && groups.size >= this.maxGroups) return 'full'
    if (!groups) this.groupsOf.set(connection.connectionId, (groups = new Set()))
    groups.add(group)
    addTo(this.byGroup, group, connection)
    return true
  }

  private leave(connection: C, group: string): boolean {
    const groups = this.groupsOf.get(connection.connectionId)
    if (!groups?.delete(group)) return false
    if (groups.size === 0) this.groupsOf.delete(connection.connectionId)
    removeFrom(this.byGroup, group, connection)
    return true
  }
}

/** Serializes a message at most once per protocol, on first need. */
class FrameCache {
  private protocol: HubProtocol | undefined
  private frame: string | Uint8Array | undefined
  private others: Map<HubProtocol, string | Uint8Array> | undefined

  constructor(private readonly message: InvocationMessage) {}

  for(protocol: HubProtocol): string | Uint8Array {
    if (protocol === this.protocol) return this.frame!
    if (this.protocol === undefined) {
      this.protocol = protocol
      return (this.frame = encodeOnce(protocol.writeMessage(this.message)))
    }
    this.others ??= new Map()
    let frame = this.others.get(protocol)
    if (frame === undefined) this.others.set(protocol, (frame = encodeOnce(protocol.writeMessage(this.message))))
    return frame
  }
}

/**
 * A text frame as UTF-8 bytes, once per message: a transport handed a string encodes it again for
 * every socket (ws does), a copy per recipient that a broadcast to thousands should not pay.
 */
function encodeOnce(frame: string | Uint8Array): string | Uint8Array {
  return typeof frame === 'string' ? Buffer.from(frame) : frame
}

/** Adds `value` under `key`; true when it is the first value of the key. */
function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): boolean {
  let set = index.get(key)
  const first = !set
  if (!set) index.set(key, (set = new Set()))
  set.add(value)
  return first
}

/** Removes `value` from `key`; true when it was the last value of the key. */
function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): boolean {
  const set = index.get(key)
  if (set && set.delete(value) && set.size === 0) {
    index.delete(key)
    return true
  }
  return false
}

/** The same target whatever the order of its ids and names. */
function targetKey(target: DeliveryTarget): string {
  const sorted = (ids: readonly string[] | undefined): string[] => [...new Set(ids ?? [])].sort()
  switch (target.kind) {
    case 'all':
      return JSON.stringify([target.kind, sorted(target.except)])
    case 'connections':
    case 'users':
      return JSON.stringify([target.kind, sorted(target.ids)])
    case 'groups':
      return JSON.stringify([target.kind, sorted(target.names), sorted(target.except)])
  }
}

function toSet(ids: readonly string[] | undefined): Set<string> | undefined {
  return ids && ids.length > 0 ? new Set(ids) : undefined
}

function unique(ids: readonly string[]): Iterable<string> {
  return ids.length > 1 ? new Set(ids) : ids
}
