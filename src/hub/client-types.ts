/**
 * The types of `this.clients`, checked against a hub's client interface: the `T` of
 * `class ChatHub extends HubBase<ChatClient>` (ASP.NET Core's `Hub<T>`). Each method of `T`
 * becomes a method of every proxy that sends it; on a single connection (`client(id)`,
 * `caller`) `invoke` asks for the client's result. A hub without `T` keeps `send(name, ...args)`.
 */
import type { DeliveryShaping } from '../lifetime/delivery-shaping.js'

/** What a hub that names no client interface may call: anything, through `send`. */
export type UntypedClient = Record<never, never>

/** How long `invoke` waits, and what may cancel it. */
export interface InvokeOptions {
  /**
   * How long to wait for the client's answer, 1 to 300000 ms; default `hubs.clientResultTimeoutMs`
   * (30000). Past it `invoke` rejects with IM_CLIENT_RESULT_TIMEOUT.
   */
  readonly timeoutMs?: number
  /** Aborting it rejects `invoke` with the signal's reason (pass `this.signal` to stop with the call). */
  readonly signal?: AbortSignal
}

export interface ClientProxyBase<T extends object> {
  /** Calls `method` on every targeted connection (SignalR's SendAsync). Resolves once handed on. */
  send(method: string, ...args: unknown[]): Promise<void>
  /**
   * The same targets, delivered as `shaping` says (added to what an earlier call set):
   * `{ spreadMs }` spreads the message over a window, `{ collapseKey, collapseWindowMs }` keeps
   * the last of a key per window (see docs/service-api.md). Throws IM_INVALID_PAYLOAD for values
   * out of bounds. `undefined` changes nothing, so a reader's optional result passes straight on.
   */
  withDelivery(shaping: DeliveryShaping | undefined): ClientProxy<T>
}

/**
 * Names a typed proxy cannot take for a client method: its own members, what runtimes probe on
 * any object (`then`, `toJSON`) and Object's members. `send(name, ...)` still sends them.
 */
export type ReservedClientMethodName = keyof SingleClientProxyBase<object> | 'then' | 'toJSON' | keyof Object

type Callable = (...args: never[]) => unknown
type MethodKeys<T> = { [K in keyof T]: T[K] extends Callable ? K : never }[keyof T] & string
type ParametersOf<F> = F extends (...args: infer A) => unknown ? A : never

/** One `Promise<void>`-returning method per method of the client interface. */
export type ClientSends<T extends object> = {
  readonly [K in Exclude<MethodKeys<T>, ReservedClientMethodName>]: (...args: ParametersOf<T[K]>) => Promise<void>
}

export type ClientProxy<T extends object = UntypedClient> = ClientProxyBase<T> & ClientSends<T>

/** The result a client method's handler gives: `R` of `R` or `Promise<R>`. */
export type ClientResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never

/** Method names `invoke` accepts: the interface's, or any name for a hub without one. */
export type InvocableName<T extends object> = [MethodKeys<T>] extends [never] ? string : MethodKeys<T>
type InvokeArgs<T extends object, K> = K extends MethodKeys<T> ? ParametersOf<T[K]> : unknown[]
type InvokeResult<T extends object, K> = K extends MethodKeys<T> ? ClientResult<T[K]> : unknown

export interface SingleClientProxyBase<T extends object> extends ClientProxyBase<T> {
  /**
   * Calls `method` on this one connection and resolves with what its handler returns (SignalR's
   * InvokeAsync, client results), wherever in the cluster the connection is. Rejects with a
   * HubException carrying the client's error when its handler threw or it has none,
   * IM_CLIENT_NOT_CONNECTED when the connection is gone or ends first, IM_CLIENT_RESULT_TIMEOUT
   * when no answer came in time (see withInvokeOptions).
   */
  invoke<K extends InvocableName<T>>(method: K, ...args: InvokeArgs<T, K>): Promise<InvokeResult<T, K>>
  /** The same connection, with a timeout or a signal of its own for `invoke`. */
  withInvokeOptions(options: InvokeOptions): SingleClientProxy<T>
  withDelivery(shaping: DeliveryShaping | undefined): SingleClientProxy<T>
}

export type SingleClientProxy<T extends object = UntypedClient> = SingleClientProxyBase<T> & ClientSends<T>

export interface HubClients<T extends object = UntypedClient> {
  readonly all: ClientProxy<T>
  allExcept(connectionIds: readonly string[]): ClientProxy<T>
  /** One connection; the only kind, with `caller`, that can `invoke` (as in ASP.NET Core). */
  client(connectionId: string): SingleClientProxy<T>
  clients(connectionIds: readonly string[]): ClientProxy<T>
  user(userId: string): ClientProxy<T>
  users(userIds: readonly string[]): ClientProxy<T>
  group(name: string): ClientProxy<T>
  /** Members of any of the groups (each connection once), optionally minus some connections. */
  groups(names: readonly string[], exceptConnectionIds?: readonly string[]): ClientProxy<T>
  groupExcept(name: string, connectionIds: readonly string[]): ClientProxy<T>
  /** The connection that made the current invocation (only inside a hub method). */
  readonly caller: SingleClientProxy<T>
  /** Everyone but the caller (only inside a hub method). */
  readonly others: ClientProxy<T>
  othersInGroup(name: string): ClientProxy<T>
}
