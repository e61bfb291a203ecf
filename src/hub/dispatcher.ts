/**
 * Runs what clients send to a hub: connection events, then invocations in order, with the
 * method lookup, authorization and argument checks of ASP.NET Core's DefaultHubDispatcher, and
 * the Completion that answers each blocking call.
 */
import type { Bus } from '../bus/bus.js'
import type { HubConnection } from '../connection/hub-connection.js'
import { CLOSE_ERROR_PREFIX } from '../connection/hub-connection.js'
import type { DispatchedMessage, InvocationHandler } from '../connection/invocation-handler.js'
import { ImError } from '../errors.js'
import type { LifetimeManager } from '../lifetime/lifetime-manager.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { MessageType } from '../protocol/messages.js'
import type { InvocationMessage, StreamInvocationMessage } from '../protocol/messages.js'
import { hubSubjects } from '../bus/subjects.js'
import type { LifecycleEvent } from './envelope.js'
import type { HubDescriptor, HubMethodDescriptor } from './hub-descriptor.js'
import type { CallerScope, HubInstances } from './hub-instances.js'
import { InvocationErrors } from './invocation-errors.js'
import { InvocationQueue } from './invocation-queue.js'
import type { AuthorizeOptions } from './metadata.js'

export interface HubDispatcherOptions {
  readonly descriptor: HubDescriptor
  readonly instances: HubInstances
  readonly lifetime: LifetimeManager
  readonly bus: Bus
  readonly nodeId: string
  readonly enableDetailedErrors: boolean
  readonly maxParallelInvocations: number
  readonly logger: Logger
  readonly metrics: Metrics
}

interface ConnectionEntry {
  readonly scope: CallerScope
  readonly queue: InvocationQueue
}

const encoder = new TextEncoder()

/** HubBase.forward is protected for hub authors; the dispatcher calls it for `@Forward` methods. */
interface ForwardingHub {
  forward(subject: string, method: string, args: readonly unknown[]): Promise<void>
}
const ROLE_CLAIMS = ['role', 'roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role']

export class HubDispatcher implements InvocationHandler {
  private readonly entries = new Map<HubConnection, ConnectionEntry>()
  private readonly subjects: ReturnType<typeof hubSubjects>

  constructor(private readonly options: HubDispatcherOptions) {
    this.subjects = hubSubjects(options.descriptor.name)
  }

  onConnected(connection: HubConnection): void {
    const scope = this.options.instances.callerScope({
      connectionId: connection.connectionId,
      userId: connection.userId,
      claims: connection.principal.claims,
      transport: connection.transport.name,
      abort: () => connection.close(),
    })
    const entry: ConnectionEntry = { scope, queue: new InvocationQueue(this.options.maxParallelInvocations) }
    this.entries.set(connection, entry)
    this.options.lifetime.add(connection)
    this.options.metrics.inc('connections_opened')
    // The hub's onConnected runs before any invocation of this connection, as in ASP.NET Core.
    entry.queue.push(async () => {
      try {
        const hub = this.options.instances.forCaller(scope)
        await hub.onConnected?.()
      } catch (error) {
        this.options.logger.warn('onConnected threw; refusing the connection', { hub: this.options.descriptor.name, error })
        const detail = error instanceof ImError ? ` HubException: ${error.message}` : ''
        connection.close({ error: `${CLOSE_ERROR_PREFIX}${detail}`, allowReconnect: false })
        return
      }
      this.publishLifecycle(this.subjects.connected, connection)
    })
  }

  onDisconnected(connection: HubConnection, error: Error | undefined): void {
    const entry = this.entries.get(connection)
    if (!entry) return
    this.entries.delete(connection)
    this.options.lifetime.remove(connection)
    this.options.metrics.inc('connections_closed')
    this.publishLifecycle(this.subjects.disconnected, connection)
    const hub = this.options.instances.forCaller(entry.scope)
    if (hub.onDisconnected) {
      Promise.resolve()
        .then(() => hub.onDisconnected!(error))
        .catch((e: unknown) => this.options.logger.warn('onDisconnected threw', { hub: this.options.descriptor.name, error: e }))
    }
  }

  onMessage(connection: HubConnection, message: DispatchedMessage): void {
    const entry = this.entries.get(connection)
    if (!entry) return
    switch (message.type) {
      case MessageType.Invocation:
        entry.queue.push(() => this.invoke(connection, entry, message))
        break
      case MessageType.StreamInvocation:
        this.refuseStreamInvocation(connection, message)
        break
      default:
        // StreamItem, Completion and CancelInvocation for ids we never issued: ignored, as
        // ASP.NET Core does (DefaultHubDispatcher logs and drops them).
        this.options.logger.debug('ignored a message for an unknown stream or invocation', { type: message.type })
    }
  }

  private async invoke(connection: HubConnection, entry: ConnectionEntry, message: InvocationMessage): Promise<void> {
    const { invocationId, target } = message
    const complete = (result: { result: unknown } | { error: string }): void => {
      // A non-blocking call (no invocationId) never gets a Completion, even on error (HubProtocol.md).
      if (invocationId === undefined || connection.state !== 'connected') return
      try {
        connection.send({ type: MessageType.Completion, invocationId, ...result })
      } catch (error) {
        // The result cannot be serialized (a BigInt, a cycle): the caller still gets an answer.
        this.options.logger.warn('hub method result could not be serialized', { hub: this.options.descriptor.name, target, error })
        connection.send({ type: MessageType.Completion, invocationId, error: InvocationErrors.threw(target, error, this.options.enableDetailedErrors) })
      }
    }
    const method = this.options.descriptor.methods.get(target.toLowerCase())
    if (!method) {
      this.options.metrics.inc('invocations_unknown_method')
      return complete({ error: InvocationErrors.methodDoesNotExist(target) })
    }
    if (!isAuthorized(method.authorize, connection)) return complete({ error: InvocationErrors.unauthorized(target) })
    if (message.streamIds && message.streamIds.length > 0) return complete({ error: InvocationErrors.streamsNotSupported(target) })
    const args = message.arguments
    const { min, max } = method.arity
    if (args.length < min || args.length > max) {
      const expected = max === Infinity ? `at least ${min}` : min === max ? String(min) : `${min} to ${max}`
      return complete({ error: InvocationErrors.wrongArgumentCount(target, args.length, expected, this.options.enableDetailedErrors) })
    }
    try {
      const result = await this.call(entry.scope, method, args)
      this.options.metrics.inc('invocations_completed')
      complete({ result: result === undefined ? null : result })
    } catch (error) {
      this.options.metrics.inc('invocations_failed')
      if (!(error instanceof ImError)) this.options.logger.warn('hub method threw', { hub: this.options.descriptor.name, method: method.name, error })
      complete({ error: InvocationErrors.threw(target, error, this.options.enableDetailedErrors) })
    }
  }

  private async call(scope: CallerScope, method: HubMethodDescriptor, args: unknown[]): Promise<unknown> {
    const hub = this.options.instances.forCaller(scope)
    const fn = (hub as unknown as Record<string, (...a: unknown[]) => unknown>)[method.propertyKey]!
    const result = await fn.apply(hub, args)
    if (method.forwardSubject === undefined) return result
    await (hub as unknown as ForwardingHub).forward(method.forwardSubject, method.name, args)
    return null
  }

  private refuseStreamInvocation(connection: HubConnection, message: StreamInvocationMessage): void {
    const method = this.options.descriptor.methods.get(message.target.toLowerCase())
    const error = method
      ? InvocationErrors.nonStreamingWithStreamInvocation(message.target)
      : InvocationErrors.methodDoesNotExist(message.target)
    connection.send({ type: MessageType.Completion, invocationId: message.invocationId, error })
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
    this.options.bus
      .publish(subject, encoder.encode(JSON.stringify(event)))
      .catch((error: unknown) => this.options.logger.debug('lifecycle event not published', { subject, error }))
  }
}

function isAuthorized(rule: AuthorizeOptions | undefined, connection: HubConnection): boolean {
  if (!rule) return true
  if (connection.userId === undefined) return false
  if (!rule.roles || rule.roles.length === 0) return true
  const claims = connection.principal.claims
  const held = new Set(ROLE_CLAIMS.flatMap((name) => [claims[name]].flat().filter((r): r is string => typeof r === 'string')))
  return rule.roles.some((role) => held.has(role))
}
