/**
 * The targeting API hub code uses: `this.clients.user(id).send('method', ...args)`. Every proxy
 * resolves to a DeliveryTarget and hands it to a Delivery; which one (this node, or the cluster)
 * depends on where the hub code runs.
 */
import { ImError, ImErrorCode } from '../errors.js'
import type { Delivery, DeliveryTarget } from '../lifetime/delivery.js'
import { shapingProblem } from '../lifetime/delivery-shaping.js'
import type { DeliveryShaping } from '../lifetime/delivery-shaping.js'

export interface ClientProxy {
  /** Calls `method` on every targeted connection (SignalR's SendAsync). Resolves once handed on. */
  send(method: string, ...args: unknown[]): Promise<void>
  /**
   * The same targets, delivered as `shaping` says (added to what an earlier call set):
   * `{ spreadMs }` spreads the message over a window, `{ collapseKey, collapseWindowMs }` keeps
   * the last of a key per window (see docs/service-api.md). Throws IM_INVALID_PAYLOAD for values
   * out of bounds. `undefined` changes nothing, so a reader's optional result passes straight on.
   */
  withDelivery(shaping: DeliveryShaping | undefined): ClientProxy
}

export interface HubClients {
  readonly all: ClientProxy
  allExcept(connectionIds: readonly string[]): ClientProxy
  client(connectionId: string): ClientProxy
  clients(connectionIds: readonly string[]): ClientProxy
  user(userId: string): ClientProxy
  users(userIds: readonly string[]): ClientProxy
  group(name: string): ClientProxy
  /** Members of any of the groups (each connection once), optionally minus some connections. */
  groups(names: readonly string[], exceptConnectionIds?: readonly string[]): ClientProxy
  groupExcept(name: string, connectionIds: readonly string[]): ClientProxy
  /** The connection that made the current invocation (only inside a hub method). */
  readonly caller: ClientProxy
  /** Everyone but the caller (only inside a hub method). */
  readonly others: ClientProxy
  othersInGroup(name: string): ClientProxy
}

export interface GroupManager {
  addToGroup(connectionId: string, group: string): Promise<void>
  removeFromGroup(connectionId: string, group: string): Promise<void>
  /** Adds every current connection of the user, on every node. */
  addUserToGroup(userId: string, group: string): Promise<void>
  removeUserFromGroup(userId: string, group: string): Promise<void>
}

function proxy(delivery: Delivery, target: DeliveryTarget, shaping?: DeliveryShaping): ClientProxy {
  return {
    send: (method, ...args) => delivery.send(target, method, args, shaping),
    withDelivery: (more) => {
      const merged = { ...shaping, ...more }
      const problem = shapingProblem(merged)
      if (problem) throw new ImError(ImErrorCode.InvalidPayload, problem)
      return proxy(delivery, target, isEmpty(merged) ? undefined : merged)
    },
  }
}

function isEmpty(shaping: DeliveryShaping): boolean {
  return !shaping.spreadMs && shaping.collapseKey === undefined
}

/** `callerId` is the connection of the current invocation, if any. */
export function createHubClients(delivery: Delivery, callerId?: string): HubClients {
  const needCaller = (what: string): string => {
    if (callerId === undefined) throw new Error(`clients.${what} is only available inside a hub method invoked by a client`)
    return callerId
  }
  return {
    all: proxy(delivery, { kind: 'all' }),
    allExcept: (ids) => proxy(delivery, { kind: 'all', except: ids }),
    client: (id) => proxy(delivery, { kind: 'connections', ids: [id] }),
    clients: (ids) => proxy(delivery, { kind: 'connections', ids }),
    user: (id) => proxy(delivery, { kind: 'users', ids: [id] }),
    users: (ids) => proxy(delivery, { kind: 'users', ids }),
    group: (name) => proxy(delivery, { kind: 'groups', names: [name] }),
    groups: (names, except) => proxy(delivery, { kind: 'groups', names, except }),
    groupExcept: (name, ids) => proxy(delivery, { kind: 'groups', names: [name], except: ids }),
    get caller() {
      return proxy(delivery, { kind: 'connections', ids: [needCaller('caller')] })
    },
    get others() {
      return proxy(delivery, { kind: 'all', except: [needCaller('others')] })
    },
    othersInGroup: (name) => proxy(delivery, { kind: 'groups', names: [name], except: [needCaller('othersInGroup')] }),
  }
}

export function createGroupManager(delivery: Delivery): GroupManager {
  return {
    addToGroup: (connectionId, group) => delivery.changeGroup({ op: 'add', group, connectionId }),
    removeFromGroup: (connectionId, group) => delivery.changeGroup({ op: 'remove', group, connectionId }),
    addUserToGroup: (userId, group) => delivery.changeGroup({ op: 'add', group, userId }),
    removeUserFromGroup: (userId, group) => delivery.changeGroup({ op: 'remove', group, userId }),
  }
}
