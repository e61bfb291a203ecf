/**
 * Runs what clients send to a hub: connection events, then invocations in order, with the
 * method lookup, authorization and argument checks of ASP.NET Core's DefaultHubDispatcher, the
 * Completion that answers each blocking call, and streams in both directions.
 */
import type { Bus } from '../bus/bus.js'
import { hubSubjects } from '../bus/subjects.js'
import type { HubConnection } from '../connection/hub-connection.js'
import type { DispatchedMessage, InvocationHandler } from '../connection/invocation-handler.js'
import { ImError } from '../errors.js'
import type { LifetimeManager } from '../lifetime/lifetime-manager.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { CLOSE_ERROR_PREFIX, MessageType } from '../protocol/messages.js'
import type { InvocationMessage, StreamInvocationMessage } from '../protocol/messages.js'
import type { ClientResults } from './client-results.js'
import type { ClientStream } from './client-stream.js'
import { ClientStreams } from './client-streams.js'
import type { ClientStreamLimits, StreamBufferPool } from './client-streams.js'
import { emptyHttpContext } from './empty-http-context.js'
import type { LifecycleEvent } from './envelope.js'
import { capHeaders, LIFECYCLE_TYPE_NAME, pascalKeys } from './cap-headers.js'
import type { OutboundFormat } from './cap-headers.js'
import type { HubDescriptor, HubMethodDescriptor } from './hub-descriptor.js'
import type { CallerScope, HubInstances } from './hub-instances.js'
import { InvocationErrors } from './invocation-errors.js'
import { ConnectionCalls } from './connection-calls.js'
import type { InvocationLimits } from './connection-calls.js'
import { isAuthorized, passesPolicy } from './call-rules.js'
import { runServerStream } from './server-stream.js'

export interface HubDispatcherOptions {
  readonly descriptor: HubDescriptor
  readonly instances: HubInstances
  readonly lifetime: LifetimeManager<HubConnection>
  readonly clientResults: ClientResults
  readonly bus: Bus
  readonly nodeId: string
  /** CAP headers and casing of lifecycle events; without it, neither. */
  readonly outbound?: OutboundFormat
  readonly enableDetailedErrors: boolean
  readonly maxParallelInvocationsPerClient: number
  /** Invocations that may wait behind the running ones. */
  readonly maxQueuedInvocations: number
  /** Token bucket per connection. */
  readonly invocationRate: { readonly perSecond: number; readonly burst: number }
  /** Bounds of client-to-server streams (see ClientStreams). */
  readonly clientStreams: ClientStreamLimits
  /** The bytes of every client stream of the node (shared by the hubs), and their bound. */
  readonly clientStreamPool: StreamBufferPool
  readonly logger: Logger
  readonly metrics: Metrics
}

type Invocation = InvocationMessage | StreamInvocationMessage
type Answer = { result: unknown } | { error: string }

const NO_STREAMS: readonly ClientStream[] = []

const encoder = new TextEncoder()
/** How long a connection may keep invoking over its rate before it is closed. */
const FLOOD_CLOSE_MS = 2000
/** How long a connection over its rate is not read from. */
const THROTTLE_MS = 1000

/** HubBase.forward is protected for hub authors; the dispatcher calls it for `@Forward` methods. */
interface ForwardingHub {
  forward(subject: string, method: string, args: readonly unknown[]): Promise<void>
}

export class HubDispatcher implements InvocationHandler {
  private readonly states = new Map<HubConnection, ConnectionCalls>()
  private readonly subjects: ReturnType<typeof hubSubjects>
  private readonly limits: InvocationLimits

  constructor(private readonly options: HubDispatcherOptions) {
    this.subjects = hubSubjects(options.descriptor.name)
    this.limits = { parallel: options.maxParallelInvocationsPerClient, ...options.invocationRate }
  }

  onConnected(connection: HubConnection): void {
    const state = this.newState(connection)
    this.states.set(connection, state)
    this.options.lifetime.add(connection)
    this.options.metrics.inc('connections_opened')
    // Without onConnected there is nothing to wait for (and no queue to make for a connection
    // that may never call).
    if (typeof this.options.descriptor.hubClass.prototype.onConnected !== 'function') {
      this.publishLifecycle(this.subjects.connected, connection)
      return
    }
    // The hub's onConnected runs before any invocation of this connection, as in ASP.NET Core.
    state.connected = new Promise<boolean>((settled) =>
      state.queue.push(async () => {
        try {
          await this.options.instances.forCaller(state.scope, () => state.endedSignal).onConnected!()
        } catch (error) {
          this.options.logger.warn('onConnected threw; refusing the connection', { hub: this.options.descriptor.name, error })
          const detail = error instanceof ImError ? ` HubException: ${error.message}` : ''
          connection.close({ error: `${CLOSE_ERROR_PREFIX}${detail}`, allowReconnect: false })
          return settled(false)
        }
        this.publishLifecycle(this.subjects.connected, connection)
        settled(true)
      }),
    )
  }

  onMovedHere(connection: HubConnection, groups: readonly string[]): void {
    if (!this.states.has(connection)) {
      this.states.set(connection, this.newState(connection))
      this.options.lifetime.add(connection, 'moved')
      this.options.metrics.inc('connections_moved_in')
    }
    for (const group of groups) {
      try {
        this.options.lifetime.applyGroupChange({ op: 'add', group, connectionId: connection.connectionId })
      } catch (error) {
        // A node with a lower group limit than the old one: keep the groups that fit.
        this.options.logger.warn('a moved connection lost a group', { hub: this.options.descriptor.name, group, error })
      }
    }
  }

  onMovedAway(connection: HubConnection): void {
    if (this.forget(connection)) this.options.metrics.inc('connections_moved_out')
  }

  /** Takes the connection out of this node: its calls are aborted, its streams and client results end. */
  private forget(connection: HubConnection): ConnectionCalls | undefined {
    const state = this.states.get(connection)
    if (!state) return undefined
    this.states.delete(connection)
    this.options.lifetime.remove(connection)
    state.end()
    this.options.clientResults.connectionEnded(connection)
    return state
  }

  async settleForMove(connection: HubConnection, timeoutMs: number): Promise<readonly string[]> {
    const state = this.states.get(connection)
    if (!state) return []
    let timer: NodeJS.Timeout | undefined
    await Promise.race([state.idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))])
    clearTimeout(timer)
    return state.outgoingIds()
  }

  private newState(connection: HubConnection): ConnectionCalls {
    return new ConnectionCalls(connection, this.limits, this.makeScope, this.makeStreams)
  }

  /** Made when a connection first sends an invocation with streams. */
  private readonly makeStreams = (connection: HubConnection): ClientStreams =>
    new ClientStreams({ ...this.options.clientStreams, detailedErrors: this.options.enableDetailedErrors }, {
      hold: (held) => {
        if (held) this.options.metrics.inc('client_streams_reading_held')
        connection.holdReceiving(held)
      },
      dropped: () => this.options.metrics.inc('client_streams_dropped'),
      invalidItem: () => this.options.metrics.inc('client_stream_items_invalid'),
      stalled: () => {
        this.options.metrics.inc('connections_closed_streams_stalled')
        const bytes = this.states.get(connection)?.streamsIfAny?.bufferedBytes ?? 0
        connection.close({ error: `${CLOSE_ERROR_PREFIX} ${InvocationErrors.streamsStalled(bytes, this.options.clientStreams.stallMs)}`, allowReconnect: true })
      },
    }, this.options.clientStreamPool)

  /** The scope is made when a call or a connection event first needs it: most connections never call. */
  private readonly makeScope = (connection: HubConnection): CallerScope =>
    this.options.instances.callerScope({
      connectionId: connection.connectionId,
      userId: connection.userId,
      claims: connection.principal.claims,
      transport: connection.transport.name,
      // Read from the connection each time: a stateful reconnect brings a new request.
      get http() {
        return connection.request?.snapshot() ?? emptyHttpContext(connection.transport.name)
      },
      abort: () => connection.close(),
    })

  /**
   * The connection is out of this node at once (groups, running calls, streams); the hub hears of
   * it as ASP.NET Core's HubConnectionHandler tells it: after onConnected has finished, and not at
   * all when onConnected threw (the connection was refused, so there is nothing to undo). The
   * lifecycle events pair the same way: no `disconnected` without its `connected`.
   */
  onDisconnected(connection: HubConnection, error: Error | undefined): void {
    const state = this.forget(connection)
    if (!state) return
    this.options.metrics.inc('connections_closed')
    if (!state.connected) return this.hubDisconnected(connection, state, error)
    void state.connected.then((accepted) => {
      if (accepted) this.hubDisconnected(connection, state, error)
    })
  }

  private hubDisconnected(connection: HubConnection, state: ConnectionCalls, error: Error | undefined): void {
    this.publishLifecycle(this.subjects.disconnected, connection)
    if (typeof this.options.descriptor.hubClass.prototype.onDisconnected !== 'function') return
    const hub = this.options.instances.forCaller(state.scope, () => state.endedSignal)
    Promise.resolve()
      .then(() => hub.onDisconnected!(error))
      .catch((e: unknown) => this.options.logger.warn('onDisconnected threw', { hub: this.options.descriptor.name, error: e }))
  }

  onMessage(connection: HubConnection, message: DispatchedMessage, size: number): void {
    const state = this.states.get(connection)
    if (!state) return
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        this.accept(connection, state, message)
        break
      case MessageType.StreamItem:
        state.streamsIfAny?.item(message.invocationId, message.item, size)
        break
      case MessageType.Completion:
        // The answer to a client-result invocation, or the end of one of the client's streams.
        if (this.options.clientResults.complete(connection, message)) break
        state.streamsIfAny?.complete(message.invocationId, message.error)
        break
      case MessageType.CancelInvocation:
        // Unknown ids are ignored, as ASP.NET Core does.
        state.outgoingStream(message.invocationId)?.abort()
        break
    }
  }

  /** Checks an invocation at once (streams must exist before their items arrive), then queues it. */
  private accept(connection: HubConnection, state: ConnectionCalls, message: Invocation): void {
    const { invocationId, target } = message
    const answer = (result: Answer): void => this.answer(connection, invocationId, target, result)
    const now = Date.now()
    if (!state.rate.take(now)) {
      this.options.metrics.inc('invocations_rate_limited')
      const { perSecond, burst } = this.options.invocationRate
      // Refusing still costs a parse and a reply: read nothing more from this client for a while
      // (its frames wait in the kernel), and close it if it keeps flooding.
      connection.transport.pauseReceiving?.(THROTTLE_MS)
      if (state.floodingSince === undefined || now - state.lastRefusedAt > THROTTLE_MS + 1000) state.floodingSince = now
      state.lastRefusedAt = now
      if (now - state.floodingSince >= FLOOD_CLOSE_MS) {
        this.options.metrics.inc('connections_closed_flooding')
        return connection.close({ error: `${CLOSE_ERROR_PREFIX} ${InvocationErrors.flooding(perSecond, FLOOD_CLOSE_MS)}`, allowReconnect: false })
      }
      return answer({ error: InvocationErrors.rateLimited(target, perSecond, burst) })
    }
    const method = this.options.descriptor.methods.get(target.toLowerCase())
    if (!method) {
      this.options.metrics.inc('invocations_unknown_method')
      return answer({ error: InvocationErrors.methodDoesNotExist(target) })
    }
    const streaming = message.type === MessageType.StreamInvocation
    if (method.stream !== streaming) {
      return answer({ error: streaming ? InvocationErrors.nonStreamingWithStreamInvocation(target) : InvocationErrors.streamingWithInvocation(target) })
    }
    if (!isAuthorized(method.authorize, connection)) return answer({ error: InvocationErrors.unauthorized(target) })
    const streams = this.registerStreams(state, message)
    if (typeof streams === 'string') {
      this.options.metrics.inc('invocations_streams_refused')
      return answer({ error: streams })
    }
    const { min, max } = method.arity
    const done = (): void => state.streamsIfAny?.close(streams)
    const given = message.arguments.length + streams.length
    if (given < min || given > max) {
      done()
      const expected = max === Infinity ? `at least ${min}` : min === max ? String(min) : `${min} to ${max}`
      this.options.logger.debug('wrong argument count', { hub: this.options.descriptor.name, method: method.name, given, expected })
      return answer({ error: InvocationErrors.wrongArgumentCount(target, given, expected, this.options.enableDetailedErrors) })
    }
    // The declared types, before any hub code: the arguments are revived in place (Date, Uint8Array).
    const failure = method.binding?.bindArguments?.(message.arguments)
    if (failure) {
      done()
      this.options.metrics.inc('invocations_invalid_arguments')
      this.options.logger.debug('invalid hub method arguments', { hub: this.options.descriptor.name, method: method.name, ...failure })
      return answer({ error: InvocationErrors.invalidArgument(target, failure, this.options.enableDetailedErrors) })
    }
    const items = method.binding?.streamItems
    if (items) for (let i = 0; i < streams.length; i++) streams[i]!.bindItem = items[i]
    const args = [...message.arguments, ...streams]
    if (streaming) {
      state.streamsIfAny?.start(streams)
      return this.startStream(connection, state, method, message as StreamInvocationMessage, args, done)
    }
    if (state.queue.saturated && state.queue.pending >= this.options.maxQueuedInvocations) {
      done()
      this.options.metrics.inc('invocations_queue_full')
      return answer({ error: InvocationErrors.queueFull(target, this.options.maxQueuedInvocations, this.options.maxParallelInvocationsPerClient) })
    }
    state.queue.push(() => {
      state.streamsIfAny?.start(streams)
      return this.invoke(connection, state, method, message, args).finally(done)
    })
  }

  /**
   * The client streams of an invocation, registered before it runs (their items may come at
   * once), or the error that refuses it. Most invocations carry none and make nothing.
   */
  private registerStreams(state: ConnectionCalls, message: Invocation): readonly ClientStream[] | string {
    const ids = message.streamIds
    if (ids === undefined || ids.length === 0) return NO_STREAMS
    return state.streams.register(ids, message.target)
  }

  private async invoke(connection: HubConnection, state: ConnectionCalls, method: HubMethodDescriptor, message: Invocation, args: unknown[]): Promise<void> {
    const { invocationId, target } = message
    try {
      // Most methods have no rule: no call object, no await.
      if (method.authorize.length > 0 && !(await passesPolicy(method.authorize, state.scope, { method: method.name, arguments: message.arguments }))) {
        return this.answer(connection, invocationId, target, { error: InvocationErrors.unauthorized(target) })
      }
      const hub = this.options.instances.forCaller(state.scope, () => state.endedSignal, invocationId)
      const fn = (hub as unknown as Record<string, (...a: unknown[]) => unknown>)[method.propertyKey]!
      let result = await fn.apply(hub, args)
      if (method.forwardSubject !== undefined) {
        await (hub as unknown as ForwardingHub).forward(method.forwardSubject, method.name, args.slice(0, message.arguments.length))
        result = null
      }
      this.options.metrics.inc('invocations_completed')
      this.answer(connection, invocationId, target, { result: result === undefined ? null : result })
    } catch (error) {
      this.options.metrics.inc('invocations_failed')
      if (!(error instanceof ImError)) this.options.logger.warn('hub method threw', { hub: this.options.descriptor.name, method: method.name, error })
      this.answer(connection, invocationId, target, { error: InvocationErrors.threw(target, error, this.options.enableDetailedErrors) })
    }
  }

  /** Server-to-client streams run beside the invocation queue, as in ASP.NET Core. */
  private startStream(connection: HubConnection, state: ConnectionCalls, method: HubMethodDescriptor, message: StreamInvocationMessage, args: unknown[], done: () => void): void {
    const { invocationId, target } = message
    if (state.outgoingStream(invocationId)) {
      done()
      return this.answer(connection, invocationId, target, { error: InvocationErrors.idInUse(invocationId) })
    }
    const cancel = new AbortController()
    const signal = AbortSignal.any([cancel.signal, state.endedSignal])
    state.addOutgoing(invocationId, cancel)
    const hub = this.options.instances.forCaller(state.scope, signal, invocationId)
    const fn = (hub as unknown as Record<string, (...a: unknown[]) => unknown>)[method.propertyKey]!
    const allowed = (): Promise<boolean> => passesPolicy(method.authorize, state.scope, { method: method.name, arguments: message.arguments })
    runServerStream({ connection, invocationId, target, detailedErrors: this.options.enableDetailedErrors, signal, allowed }, () => fn.apply(hub, args))
      .catch((error: unknown) => this.options.logger.warn('stream failed', { hub: this.options.descriptor.name, method: method.name, error }))
      .finally(() => {
        state.removeOutgoing(invocationId)
        done()
      })
  }

  /** Sends the Completion of a blocking call; a non-blocking call (no id) never gets one (HubProtocol.md). */
  private answer(connection: HubConnection, invocationId: string | undefined, target: string, answer: Answer): void {
    if (invocationId === undefined || !connection.isConnected) return
    try {
      connection.send({ type: MessageType.Completion, invocationId, ...answer })
    } catch (error) {
      // The result cannot be serialized (a BigInt, a cycle): the caller still gets an answer.
      this.options.logger.warn('hub method result could not be serialized', { hub: this.options.descriptor.name, target, error })
      connection.send({ type: MessageType.Completion, invocationId, error: InvocationErrors.threw(target, error, this.options.enableDetailedErrors) })
    }
  }

  private publishLifecycle(subject: string, connection: HubConnection): void {
    if (this.options.bus.status().state !== 'connected') return
    const event: LifecycleEvent = {
      connectionId: connection.connectionId,
      userId: connection.userId ?? null,
      transport: connection.transport.name,
      node: this.options.nodeId,
      timestamp: new Date().toISOString(),
    }
    const outbound = this.options.outbound
    const body = outbound?.envelopeCasing === 'pascal' ? pascalKeys(event) : event
    const headers = outbound?.capHeaders ? { headers: capHeaders(subject, outbound.ids.next(), LIFECYCLE_TYPE_NAME) } : {}
    // Fire and forget: no one waits on the event, so it need not cost a confirming round trip.
    this.options.bus
      .publish(subject, encoder.encode(JSON.stringify(body)), { confirm: false, ...headers })
      .catch((error: unknown) => this.options.logger.debug('lifecycle event not published', { subject, error }))
  }
}
