/**
 * The base class of every hub. The framework fills `clients`, `groups`, `bus` and `context`
 * before it calls a hub method or a subscription handler. As in ASP.NET Core, a hub instance
 * lives for one call: keep no state in fields.
 */
import type { HttpContextSnapshot } from '../connection/opening-request.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { GroupManager } from './clients.js'
import type { HubClients, UntypedClient } from './client-types.js'
import type { InvocationEnvelope } from './envelope.js'
import type { TopicAccess } from './topic-access.js'
import type { TopicAction } from './topic-rules.js'

/** The connection behind the current client invocation. */
export interface HubCallerContext {
  readonly connectionId: string
  /** The user id from the access token; undefined for an anonymous connection. */
  readonly userId: string | undefined
  readonly claims: Readonly<Record<string, unknown>>
  /** `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly transport: string
  /**
   * The HTTP request that opened the connection (ASP.NET Core's `Context.GetHttpContext()`):
   * headers, query, cookies, path, client address. The WebSocket upgrade, the Server-Sent Events
   * request or the first long poll; after a stateful reconnect, the reconnect's upgrade. The
   * access token is never in it: `Authorization` reads "[redacted]", and the query leaves out
   * `access_token` and the connection token `id`. Frozen. Empty on a hub declared with
   * `@Hub({ httpContext: false })`.
   */
  readonly http: HttpContextSnapshot
  /**
   * The id of the client invocation being run; undefined for a non-blocking call (`send`) and
   * in connection events. With the connection id it names the call uniquely (durable forwarding
   * uses both as `Nats-Msg-Id`).
   */
  readonly invocationId?: string
  /** Closes the connection without error and without reconnect (SignalR's Context.Abort()). */
  abort(): void
}

/** The client call an `@Authorize({ policy })` check is asked about. */
export interface HubInvocation {
  /** The hub method's name, as clients invoke it. */
  readonly method: string
  /**
   * The arguments the client sent, as received: not yet checked against the method's parameter
   * types, so treat them as unknown. Client streams are left out.
   */
  readonly arguments: readonly unknown[]
}

/**
 * The bus as hub code sees it: payloads are UTF-8 JSON, with a Date as ISO 8601 and a Uint8Array
 * as base64, the forms a .NET service reads as DateTimeOffset and byte[].
 */
export interface HubBus {
  publish(subject: string, payload: unknown, headers?: Record<string, string>): Promise<void>
  /**
   * The JSON payloads published on `subject` from now until `signal` aborts or the call ends
   * (payloads that are not JSON are skipped). For a `@HubStream` that relays a subject to its
   * caller. Watchers of one subject on a node share one subscription and the same parsed payload:
   * read it, never change it. A connection holds at most `hubs.maxWatchesPerConnection` watches
   * at once, a node watches at most `hubs.maxWatchedSubjects` subjects; past either this throws
   * IM_LIMIT_EXCEEDED. A reader more than 1000 payloads behind makes its watch fail.
   */
  watch(subject: string, signal: AbortSignal): AsyncIterable<unknown>
}

/** Facts about the message a subscription handler is running for. */
export interface SubscriptionContext {
  readonly subject: string
  readonly headers?: ReadonlyMap<string, string>
  /** The message's sequence in the JetStream stream it came from (`jetstream.stream`); absent from core NATS. */
  readonly sequence?: number
}

/**
 * What the framework gives one call of a hub instance (hub-instances.ts sets it). One slot
 * rather than one property each: an instance is made for every client call.
 */
export interface HubCall {
  readonly clients: HubClients
  readonly groups: GroupManager
  /** Made on first use: most calls never publish. */
  readonly bus: () => EnvelopeBus
  readonly context: HubCallerContext | undefined
  /** A function is asked only if the hub reads this.signal: most calls never do. */
  readonly signal: AbortSignal | (() => AbortSignal)
  readonly hubName: string
  readonly nodeId: string
  /** The topic rules and authorizer of this hub. */
  readonly topics: TopicAccess
}

/** The bus of a call as the framework sees it: `forward` publishes envelopes in the configured casing, with their type name. */
export interface EnvelopeBus extends HubBus {
  publishEnvelope(subject: string, envelope: InvocationEnvelope): Promise<void>
}

/** The slot of a hub instance that holds its HubCall. */
export const HUB_CALL = Symbol('imservice.hubCall')

/**
 * `TClient` is the hub's client interface, what the server calls on clients (ASP.NET Core's
 * `Hub<T>`): `interface ChatClient { message(m: ChatMessage): void }` makes
 * `this.clients.group(room).message(m)` a checked call, and `im generate` types the frontends'
 * handlers from it. A method that returns a value (or a Promise of one) can be asked with
 * `this.clients.client(id).invoke(...)`. Without it, `send(name, ...args)` takes any name.
 */
export abstract class HubBase<TClient extends object = UntypedClient> {
  declare [HUB_CALL]: HubCall
  #bus: EnvelopeBus | undefined

  /**
   * Inside a hub method or onConnected: reaches connections on every node. Inside a
   * `@Subscribe` handler: reaches this node's connections only, because every node receives the
   * subscribed message and delivers to its own. `client(id).invoke(...)` reaches the connection
   * wherever it is, from either.
   */
  get clients(): HubClients<TClient> {
    // The run-time proxies answer every client method name; TClient only narrows what compiles.
    return this[HUB_CALL].clients as unknown as HubClients<TClient>
  }

  get groups(): GroupManager {
    return this[HUB_CALL].groups
  }

  get bus(): HubBus {
    return (this.#bus ??= this[HUB_CALL].bus())
  }

  /** The calling connection; throws outside a client invocation or connection event. */
  get context(): HubCallerContext {
    const context = this[HUB_CALL].context
    if (!context) throw new ImError(ImErrorCode.InvalidOperation, `${this.hubName}: this.context is only available in hub methods and connection events`)
    return context
  }

  /** The hub's name as used in subjects (`im.<name>.*`). */
  get hubName(): string {
    return this[HUB_CALL].hubName
  }

  /** The id of this IMService node. */
  get nodeId(): string {
    return this[HUB_CALL].nodeId
  }

  /**
   * Aborts when the work of this call is no longer wanted: the caller disconnected, or (for a
   * `@HubStream`) cancelled the stream. Pass it on to long waits.
   */
  get signal(): AbortSignal {
    const signal = this[HUB_CALL].signal
    return typeof signal === 'function' ? signal() : signal
  }

  /** Runs after a connection's handshake. Throwing refuses the connection. */
  onConnected?(): void | Promise<void>
  /**
   * Runs when a connection ends, with the error that ended it, if any: after onConnected has
   * finished, and not for a connection onConnected refused (as in ASP.NET Core).
   */
  onDisconnected?(error: Error | undefined): void | Promise<void>

  /**
   * Resolves when the caller may `watch` or `publish` to `topic` under the topic rules
   * (im.config.ts `topics`) and, where they leave it to it, the authorizer service; otherwise
   * throws a HubException naming the topic and the reason (an invalid topic, see validateTopic,
   * is refused too). Call it before a client-chosen topic reaches the bus.
   */
  protected authorizeTopic(action: TopicAction, topic: string): Promise<void> {
    return this[HUB_CALL].topics.authorize(action, topic, this.context)
  }

  /**
   * Publishes the current invocation to `subject` as an InvocationEnvelope, for the services to
   * handle. Resolves once the bus has it (on a durable subject: once the stream stored it);
   * rejects (and so fails the invocation) when it is down or the stream did not acknowledge.
   */
  protected forward(subject: string, method: string, args: readonly unknown[], topic?: string): Promise<void> {
    const envelope: InvocationEnvelope = {
      hub: this.hubName,
      method,
      ...(topic === undefined ? {} : { topic }),
      args,
      connectionId: this.context.connectionId,
      userId: this.context.userId ?? null,
      node: this.nodeId,
      timestamp: new Date().toISOString(),
    }
    return (this.#bus ??= this[HUB_CALL].bus()).publishEnvelope(subject, envelope)
  }
}

/** The constructor of a hub class, as the registry sees it. */
export type HubClass = new () => HubBase<object>
