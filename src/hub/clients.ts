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

/*
 * Classes rather than object literals of arrow functions: a subscription handler or hub method
 * makes a proxy or two per message, and methods on a prototype cost no closure per call.
 */

class TargetProxy implements ClientProxy {
  constructor(
    private readonly delivery: Delivery,
    private readonly target: DeliveryTarget,
    private readonly shaping?: DeliveryShaping,
  ) {}

  send(method: string, ...args: unknown[]): Promise<void> {
    return this.delivery.send(this.target, method, args, this.shaping)
  }

  withDelivery(more: DeliveryShaping | undefined): ClientProxy {
    const merged = { ...this.shaping, ...more }
    const problem = shapingProblem(merged)
    if (problem) throw new ImError(ImErrorCode.InvalidPayload, problem)
    return new TargetProxy(this.delivery, this.target, isEmpty(merged) ? undefined : merged)
  }
}

function isEmpty(shaping: DeliveryShaping): boolean {
  return !shaping.spreadMs && shaping.collapseKey === undefined
}

class Clients implements HubClients {
  readonly all: ClientProxy

  /** `callerId` is the connection of the current invocation, if any. */
  constructor(
    private readonly delivery: Delivery,
    private readonly callerId?: string,
  ) {
    this.all = new TargetProxy(delivery, { kind: 'all' })
  }

  allExcept(ids: readonly string[]): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'all', except: ids })
  }

  client(id: string): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'connections', ids: [id] })
  }

  clients(ids: readonly string[]): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'connections', ids })
  }

  user(id: string): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'users', ids: [id] })
  }

  users(ids: readonly string[]): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'users', ids })
  }

  group(name: string): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name] })
  }

  groups(names: readonly string[], except?: readonly string[]): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names, except })
  }

  groupExcept(name: string, ids: readonly string[]): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name], except: ids })
  }

  get caller(): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'connections', ids: [this.needCaller('caller')] })
  }

  get others(): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'all', except: [this.needCaller('others')] })
  }

  othersInGroup(name: string): ClientProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name], except: [this.needCaller('othersInGroup')] })
  }

  private needCaller(what: string): string {
    if (this.callerId === undefined) throw new Error(`clients.${what} is only available inside a hub method invoked by a client`)
    return this.callerId
  }
}

class Groups implements GroupManager {
  constructor(private readonly delivery: Delivery) {}

  addToGroup(connectionId: string, group: string): Promise<void> {
    return this.delivery.changeGroup({ op: 'add', group, connectionId })
  }

  removeFromGroup(connectionId: string, group: string): Promise<void> {
    return this.delivery.changeGroup({ op: 'remove', group, connectionId })
  }

  addUserToGroup(userId: string, group: string): Promise<void> {
    return this.delivery.changeGroup({ op: 'add', group, userId })
  }

  removeUserFromGroup(userId: string, group: string): Promise<void> {
    return this.delivery.changeGroup({ op: 'remove', group, userId })
  }
}

/** `callerId` is the connection of the current invocation, if any. */
export function createHubClients(delivery: Delivery, callerId?: string): HubClients {
  return new Clients(delivery, callerId)
}

export function createGroupManager(delivery: Delivery): GroupManager {
  return new Groups(delivery)
}
