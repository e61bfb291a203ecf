/**
 * The targeting API hub code uses: `this.clients.user(id).message(msg)` for a hub with a client
 * interface, `this.clients.user(id).send('message', msg)` for any. Every proxy resolves to a
 * DeliveryTarget and hands it to a Delivery; which one (this node, or the cluster) depends on
 * where the hub code runs. `client(id).invoke(...)` asks a ClientInvoker for the client's result.
 */
import { ImError, ImErrorCode } from '../errors.js'
import type { Delivery, DeliveryTarget } from '../lifetime/delivery.js'
import { shapingProblem } from '../lifetime/delivery-shaping.js'
import type { DeliveryShaping } from '../lifetime/delivery-shaping.js'
import { installClientMethods, SEND_ARGS } from './client-method-trap.js'
import type { HubClients, InvokeOptions } from './client-types.js'

export type { ClientProxy, HubClients, InvokeOptions, SingleClientProxy } from './client-types.js'

/** Asks one connection, wherever it is, for a result (client-results.ts). */
export interface ClientInvoker {
  invoke(connectionId: string, method: string, args: readonly unknown[], options: InvokeOptions): Promise<unknown>
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
 * makes a proxy or two per message, and methods on a prototype cost no closure per call. The
 * client interface's methods (`proxy.message(msg)`) are found on the prototype as well:
 * client-method-trap.ts defines each name there the first time it is used.
 */

class TargetProxy {
  // Private fields: set without walking the prototype chain, whose end is a Proxy (see above).
  readonly #delivery: Delivery
  readonly #target: DeliveryTarget
  readonly #shaping: DeliveryShaping | undefined

  constructor(delivery: Delivery, target: DeliveryTarget, shaping?: DeliveryShaping) {
    this.#delivery = delivery
    this.#target = target
    this.#shaping = shaping
  }

  send(method: string, ...args: unknown[]): Promise<void> {
    return this.#delivery.send(this.#target, method, args, this.#shaping)
  }

  /** What a client interface method calls (see client-method-trap.ts). */
  [SEND_ARGS](method: string, args: unknown[]): Promise<void> {
    return this.#delivery.send(this.#target, method, args, this.#shaping)
  }

  withDelivery(more: DeliveryShaping | undefined): TargetProxy {
    return new TargetProxy(this.#delivery, this.#target, merged(this.#shaping, more))
  }
}

installClientMethods(TargetProxy.prototype)

/** One connection: it may also be asked for a result. */
class SingleTarget extends TargetProxy {
  readonly #delivery: Delivery
  readonly #invoker: ClientInvoker
  readonly #connectionId: string
  readonly #options: InvokeOptions
  readonly #shaping: DeliveryShaping | undefined

  constructor(delivery: Delivery, invoker: ClientInvoker, connectionId: string, options: InvokeOptions = {}, shaping?: DeliveryShaping) {
    super(delivery, { kind: 'connections', ids: [connectionId] }, shaping)
    this.#delivery = delivery
    this.#invoker = invoker
    this.#connectionId = connectionId
    this.#options = options
    this.#shaping = shaping
  }

  invoke(method: string, ...args: unknown[]): Promise<unknown> {
    return this.#invoker.invoke(this.#connectionId, method, args, this.#options)
  }

  withInvokeOptions(options: InvokeOptions): SingleTarget {
    return new SingleTarget(this.#delivery, this.#invoker, this.#connectionId, { ...this.#options, ...options }, this.#shaping)
  }

  override withDelivery(more: DeliveryShaping | undefined): SingleTarget {
    return new SingleTarget(this.#delivery, this.#invoker, this.#connectionId, this.#options, merged(this.#shaping, more))
  }
}

function merged(shaping: DeliveryShaping | undefined, more: DeliveryShaping | undefined): DeliveryShaping | undefined {
  const all = { ...shaping, ...more }
  const problem = shapingProblem(all)
  if (problem) throw new ImError(ImErrorCode.InvalidPayload, problem)
  return !all.spreadMs && all.collapseKey === undefined && all.durableSequence === undefined ? undefined : all
}

/** Where no invoker is given (tests of sending alone): every invoke says so. */
const NO_INVOKER: ClientInvoker = {
  invoke: () => Promise.reject(new ImError(ImErrorCode.ClientNotConnected, 'client results are not available here')),
}

/** Typed as HubClients by createHubClients: its proxies answer any client method name. */
class Clients {
  readonly all: TargetProxy

  /** `callerId` is the connection of the current invocation, if any. */
  constructor(
    private readonly delivery: Delivery,
    private readonly invoker: ClientInvoker,
    private readonly callerId?: string,
  ) {
    this.all = new TargetProxy(delivery, { kind: 'all' })
  }

  allExcept(ids: readonly string[]): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'all', except: ids })
  }

  client(id: string): SingleTarget {
    return new SingleTarget(this.delivery, this.invoker, id)
  }

  clients(ids: readonly string[]): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'connections', ids })
  }

  user(id: string): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'users', ids: [id] })
  }

  users(ids: readonly string[]): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'users', ids })
  }

  group(name: string): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name] })
  }

  groups(names: readonly string[], except?: readonly string[]): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names, except })
  }

  groupExcept(name: string, ids: readonly string[]): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name], except: ids })
  }

  get caller(): SingleTarget {
    return new SingleTarget(this.delivery, this.invoker, this.needCaller('caller'))
  }

  get others(): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'all', except: [this.needCaller('others')] })
  }

  othersInGroup(name: string): TargetProxy {
    return new TargetProxy(this.delivery, { kind: 'groups', names: [name], except: [this.needCaller('othersInGroup')] })
  }

  private needCaller(what: string): string {
    if (this.callerId === undefined) throw new ImError(ImErrorCode.InvalidOperation, `clients.${what} is only available inside a hub method invoked by a client`)
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

/**
 * `callerId` is the connection of the current invocation, if any. The typed view is the hub's
 * business (HubBase<T>): at run time every proxy answers every client method name.
 */
export function createHubClients(delivery: Delivery, callerId?: string, invoker: ClientInvoker = NO_INVOKER): HubClients {
  return new Clients(delivery, invoker, callerId) as unknown as HubClients
}

export function createGroupManager(delivery: Delivery): GroupManager {
  return new Groups(delivery)
}
