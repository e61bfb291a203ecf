/**
 * Builds hub instances with what the framework gives them: per client call, an instance bound to
 * the caller and to cluster-wide delivery; for subscription handlers, one instance bound to this
 * node's connections.
 */
import { randomUUID } from 'node:crypto'
import type { Bus } from '../bus/bus.js'
import { subjectMatches, validateTopic } from '../bus/subjects.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { Delivery } from '../lifetime/delivery.js'
import { stringifyWireValue } from '../protocol/wire-json.js'
import { CAP_MSG_ID, capHeaders, capIdOf, ENVELOPE_TYPE_NAME, MESSAGE_TYPE_NAME, pascalKeys } from './cap-headers.js'
import type { OutboundFormat } from './cap-headers.js'
import { createGroupManager, createHubClients } from './clients.js'
import type { ClientInvoker, GroupManager, HubClients } from './clients.js'
import type { HubDescriptor } from './hub-descriptor.js'
import { HUB_CALL } from './hub.js'
import type { EnvelopeBus, HubBase, HubCallerContext } from './hub.js'
import type { InvocationEnvelope } from './envelope.js'
import type { TopicAccess } from './topic-access.js'
import type { WatchSlots, WatchStreams } from './watch-streams.js'

export interface HubInstancesOptions {
  readonly descriptor: HubDescriptor
  readonly bus: Bus
  readonly nodeId: string
  /** Reaches every node's connections. */
  readonly cluster: Delivery
  /** Reaches this node's connections. */
  readonly local: Delivery
  /** Asks one connection, on any node, for a client result. */
  readonly invoker: ClientInvoker
  /**
   * Subjects (wildcards allowed) published through JetStream: a publish there resolves once the
   * stream stored it, with a `Nats-Msg-Id` naming the call so that a retry is stored once.
   */
  readonly durableSubjects?: readonly string[]
  /** Who may watch and publish which topics (HubBase.authorizeTopic). */
  readonly topics: TopicAccess
  /** What `this.bus.watch()` opens: shared per node, bounded per connection. */
  readonly watches: WatchStreams
  /** CAP headers and envelope casing; without it, neither. */
  readonly outbound?: OutboundFormat
}

/** What one connection's calls share: built once per connection, not once per call. */
export interface CallerScope {
  readonly context: HubCallerContext
  readonly clients: HubClients
  /** The watches the connection holds open. */
  readonly watchSlots: WatchSlots
}

const encoder = new TextEncoder()
const NEVER_ABORTED = new AbortController().signal

export class HubInstances {
  private readonly clusterGroups: GroupManager
  private subscriberInstance: HubBase | undefined

  constructor(private readonly options: HubInstancesOptions) {
    this.clusterGroups = createGroupManager(options.cluster)
  }

  /**
   * The bus of one instance. Message ids of durable publishes are `<connectionId>:<invocationId>`,
   * then `:2`, `:3`... for further publishes of the same call (a `publishStream`'s items), so the
   * same call sent again yields the same ids; without an invocation id (a non-blocking call, a
   * subscription handler) nothing names the call and the id is random.
   */
  private hubBus(context: HubCallerContext | undefined, watcher: CallWatcher): EnvelopeBus {
    const callId = context?.invocationId !== undefined ? `${context.connectionId}:${context.invocationId}` : undefined
    return new CallBus(this.options.bus, this.options.durableSubjects ?? [], callId, watcher, this.options.outbound)
  }

  /** The clients API of a connection is built on its first use: most connections never call. */
  callerScope(context: HubCallerContext): CallerScope {
    const { cluster, invoker } = this.options
    let clients: HubClients | undefined
    return {
      context,
      get clients() {
        return (clients ??= createHubClients(cluster, context.connectionId, invoker))
      },
      watchSlots: { held: 0 },
    }
  }

  /**
   * A fresh instance for one client call or connection event; `signal` aborts when it is unwanted.
   * `invocationId` is the call's, when it has one (see HubCallerContext.invocationId).
   */
  forCaller(scope: CallerScope, signal: AbortSignal | (() => AbortSignal), invocationId?: string): HubBase {
    // Not a spread: it would run the context's getters (http builds its snapshot on first read).
    const context: HubCallerContext = invocationId === undefined ? scope.context : Object.create(scope.context, { invocationId: { value: invocationId, enumerable: true } })
    return this.build(scope.clients, this.clusterGroups, context, signal, scope.watchSlots)
  }

  /** The instance that runs `@Subscribe` handlers (shared: hubs keep no state). */
  forSubscriptions(): HubBase {
    this.subscriberInstance ??= this.build(
      createHubClients(this.options.local, undefined, this.options.invoker),
      createGroupManager(this.options.local),
      undefined,
      NEVER_ABORTED,
      undefined,
    )
    return this.subscriberInstance
  }

  private build(
    clients: HubClients,
    groups: GroupManager,
    context: HubCallerContext | undefined,
    signal: AbortSignal | (() => AbortSignal),
    watchSlots: WatchSlots | undefined,
  ): HubBase {
    const hub = new this.options.descriptor.hubClass()
    const watches = this.options.watches
    hub[HUB_CALL] = {
      clients,
      groups,
      bus: () => this.hubBus(context, { watches, slots: watchSlots, callSignal: signal }),
      context,
      signal,
      hubName: this.options.descriptor.name,
      nodeId: this.options.nodeId,
      topics: this.options.topics,
    }
    return hub
  }
}

/** What a call's watches need: the node's watches, the caller's slots, and the call's own end. */
interface CallWatcher {
  readonly watches: WatchStreams
  readonly slots: WatchSlots | undefined
  readonly callSignal: AbortSignal | (() => AbortSignal)
}

/** `this.bus` of one hub instance: payloads as JSON in .NET's forms (bytes as base64, dates as ISO 8601); durable subjects through JetStream with ids naming the call. */
class CallBus implements EnvelopeBus {
  private published = 0

  constructor(
    private readonly bus: Bus,
    private readonly durableSubjects: readonly string[],
    private readonly callId: string | undefined,
    private readonly watcher: CallWatcher,
    private readonly outbound: OutboundFormat | undefined,
  ) {}

  publish(subject: string, payload: unknown, headers?: Record<string, string>): Promise<void> {
    return this.send(subject, payload, MESSAGE_TYPE_NAME, headers)
  }

  publishEnvelope(subject: string, envelope: InvocationEnvelope): Promise<void> {
    return this.send(subject, this.outbound?.envelopeCasing === 'pascal' ? pascalKeys(envelope) : envelope, ENVELOPE_TYPE_NAME)
  }

  /**
   * With CAP headers on, a durable publish's `Nats-Msg-Id` is its `cap-msg-id`: a number derived
   * from the call's id, so the same call sent again still yields the same ids.
   */
  private async send(subject: string, payload: unknown, typeName: string, headers?: Record<string, string>): Promise<void> {
    const problem = validateTopic(subject)
    if (problem) throw new ImError(ImErrorCode.InvalidTopic, `cannot publish to "${subject}": ${problem}`)
    const durable = this.durableSubjects.length > 0 && this.durableSubjects.some((pattern) => subjectMatches(pattern, subject))
    const callId = this.callId
    let callKey: string | undefined
    if (callId !== undefined && (durable || this.outbound?.capHeaders)) callKey = ++this.published === 1 ? callId : `${callId}:${this.published}`
    let msgId = durable ? (callKey ?? randomUUID()) : undefined
    let allHeaders = headers
    if (this.outbound?.capHeaders) {
      const capId = callKey === undefined ? this.outbound.ids.next() : capIdOf(callKey)
      // The hub's own headers win: a hub may name its message's type or id itself.
      allHeaders = { ...capHeaders(subject, capId, typeName), ...headers }
      if (durable) msgId = allHeaders[CAP_MSG_ID]
    }
    await this.bus.publish(subject, encoder.encode(stringifyWireValue(payload)), {
      ...(allHeaders ? { headers: allHeaders } : {}),
      ...(durable ? { durable: true, msgId } : {}),
    })
  }

  /** The watch also ends with the call (a disconnect, a cancelled stream), whatever `signal` hub code passed. */
  watch(subject: string, signal: AbortSignal): AsyncIterable<unknown> {
    const { watches, slots, callSignal } = this.watcher
    const call = typeof callSignal === 'function' ? callSignal() : callSignal
    return watches.open(subject, call === signal ? signal : AbortSignal.any([signal, call]), slots)
  }
}
