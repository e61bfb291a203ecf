/**
 * The composition root: builds every concrete part of a node from its configuration and wires
 * them together. Nothing else in src/ creates buses, sockets or hub runtimes.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { createTokenVerifier } from './auth/jwt-verifier.js'
import { rememberVerifiedTokens } from './auth/verified-tokens.js'
import type { Bus } from './bus/bus.js'
import { hubSubjects, subjectCovers } from './bus/subjects.js'
import { MAX_CLIENT_RESULT_TIMEOUT_MS } from './config/config.js'
import type { ImConfig } from './config/config.js'
import { ConnectionSweeper } from './connection/connection-sweeper.js'
import { ImError, ImErrorCode } from './errors.js'
import { CapIdGenerator } from './hub/cap-headers.js'
import { HubDispatcher } from './hub/dispatcher.js'
import type { HubDescriptor } from './hub/hub-descriptor.js'
import { HubInstances } from './hub/hub-instances.js'
import type { HubClass } from './hub/hub.js'
import { startSubscriptions } from './hub/subscriptions.js'
import { createTopicAccess } from './hub/topic-access.js'
import { WatchStreams } from './hub/watch-streams.js'
import type { HubConnection } from './connection/hub-connection.js'
import { ClientResults } from './hub/client-results.js'
import { StreamBufferPool } from './hub/client-streams.js'
import { ClusterDelivery } from './lifetime/cluster-delivery.js'
import { LifetimeManager } from './lifetime/lifetime-manager.js'
import { HubPresence } from './lifetime/presence/hub-presence.js'
import { WatchFanout } from './lifetime/watch-fanout.js'
import { rateLimitLogger, silentLogger } from './logger.js'
import type { Logger } from './logger.js'
import { Metrics } from './metrics.js'
import type { HubProtocol } from './protocol/hub-protocol.js'
import { jsonHubProtocol } from './protocol/json-hub-protocol.js'
import { messagePackHubProtocol } from './protocol/messagepack-hub-protocol.js'
import { AdminEndpoints } from './server/admin-endpoints.js'
import { Cors } from './server/cors.js'
import { isLoopbackHost, refuseUpgrade, sendText, setSafeHeaders } from './server/http-util.js'
import { PublishGuard } from './server/publish-guard.js'
import { ClusterRouter } from './cluster/cluster-router.js'
import { ConnectionLimits } from './server/connection-limits.js'
import { newIncarnation, nodeTag } from './cluster/node-tag.js'
import { checkHubs } from './server/check-hubs.js'
import { createOfflineDelivery } from './server/offline-delivery.js'
import { HubEndpoint } from './server/hub-endpoint.js'
import { RequestAuthenticator } from './server/request-auth.js'
import { selectBus } from './server/select-bus.js'
import { ClientWrites } from './transports/client-writes.js'

export interface ImServerOptions {
  readonly config: ImConfig
  readonly hubs: readonly HubClass[]
  readonly logger?: Logger
  /** Use this bus instead of choosing one from the configuration (it is closed with the server). */
  readonly bus?: Bus
}

export interface ImServer {
  /** `http://host:port` of the listening server. */
  readonly url: string
  readonly port: number
  /** `http://host:port` of the internal listener (IM_INTERNAL_PORT), when there is one. */
  readonly internalUrl?: string
  readonly nodeId: string
  readonly bus: Bus
  readonly hubs: readonly HubDescriptor[]
  readonly metrics: Metrics
  close(): Promise<void>
}

/** Payloads of a watched subject that may wait for one slow reader before its watch fails. */
const WATCH_BUFFER = 1000

export async function startServer(options: ImServerOptions): Promise<ImServer> {
  const { config } = options
  const metrics = new Metrics()
  // A flood of one refusal (bad tokens, refused origins) costs a few log lines, not one per request.
  const logger = rateLimitLogger(options.logger ?? silentLogger, { onSuppressed: () => metrics.inc('log_lines_suppressed') })
  const descriptors = await checkHubs(options.hubs, config, logger)
  assertUnique(descriptors)

  if (config.topics.source === 'open-default' && config.topics.rules.length > 0) {
    logger.warn('topics are open: without a JWT key or topic rules any client may watch and publish any topic; set topics.rules (IM_TOPIC_RULES) or a JWT key')
  }
  const bus = options.bus ?? (await selectBus(config.nats, config.nodeId, logger, config.jetstream))
  const protocols = new Map<string, HubProtocol>([
    [jsonHubProtocol.name, jsonHubProtocol],
    [messagePackHubProtocol.name, messagePackHubProtocol],
  ])
  const verifier = createTokenVerifier(config.jwt)
  const auth = new RequestAuthenticator(verifier && rememberVerifiedTokens(verifier))
  const cors = new Cors({ corsOrigins: config.corsOrigins, logger, metrics })
  const { keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs, statefulReconnectWindowMs } = config.hubs
  const sweeper = new ConnectionSweeper({ keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs, statefulReconnectWindowMs, closeOnTokenExpiry: config.jwt?.closeOnExpiry ?? false })

  // New on every start: the tokens of a previous life under the same node id are not this one's.
  const tag = nodeTag(config.nodeId, newIncarnation())
  const { maxConnectionsPerUser, maxConnectionsPerAddress, maxWatchedSubjects, maxWatchesPerConnection, maxServicePayloadSize } = config.hubs
  const limits = new ConnectionLimits({ maxConnectionsPerUser, maxConnectionsPerAddress })
  const [lifetimes, presences] = [[] as LifetimeManager<HubConnection>[], [] as HubPresence[]]
  // One fan-out per node, shared by every hub: watchers of a subject share its bus subscription.
  const watchFanout = new WatchFanout({ bus, maxWatchedSubjects })
  const watches = new WatchStreams({ fanout: watchFanout, maxWatchesPerConnection, bufferSize: WATCH_BUFFER, metrics })
  const clientStreamPool = new StreamBufferPool(config.hubs.maxStreamBufferBytesPerNode)
  const offline = createOfflineDelivery({ bus, jetstream: config.jetstream, descriptors, logger, maxServicePayloadSize })
  // Every write to a client, on every hub, leaves at this one flush point (see ClientWrites).
  const writes = new ClientWrites()
  const outbound = { capHeaders: config.nats.capHeaders, envelopeCasing: config.hubs.envelopeCasing, ids: new CapIdGenerator(config.nodeId) }
  const endpoints = descriptors.map((descriptor) => {
    const subjects = hubSubjects(descriptor.name)
    const presence = config.presence.enabled ? new HubPresence({ bus, hub: descriptor.name, subjects: subjects.presence, tag, nodeId: config.nodeId, ...config.presence, replicas: config.jetstream.replicas, refused: () => metrics.inc('presence_requests_refused'), logger }) : undefined
    const gate = offline?.gateOf(descriptor.name)
    const lifetime = new LifetimeManager<HubConnection>({ maxGroupsPerConnection: config.hubs.maxGroupsPerConnection, ...(gate ? { durable: gate } : {}), ...(presence ? { users: presence } : {}) })
    lifetimes.push(lifetime)
    if (presence) presences.push(presence.start(lifetime))
    const cluster = new ClusterDelivery({ bus, local: lifetime, subject: subjects.deliver, logger })
    cluster.start()
    // Made last, but client results ask it which connections went to another node.
    let endpoint: HubEndpoint | undefined
    const clientResults = new ClientResults({
      bus,
      subject: subjects.invokeClient,
      nodeTag: tag,
      find: (id) => lifetime.get(id),
      handedOver: (id) => endpoint?.isHandedOver(id) ?? false,
      clientResultTimeoutMs: config.hubs.clientResultTimeoutMs,
      maxTimeoutMs: MAX_CLIENT_RESULT_TIMEOUT_MS,
      relayMarginMs: config.hubs.relayMarginMs,
      logger,
    })
    clientResults.start()
    // Durable by configuration, or by `@Forward(subject, { durable: true })` on the hub.
    const durableSubjects = [...config.jetstream.forward, ...[...descriptor.methods.values()].flatMap((m) => (m.forwardDurable && m.forwardSubject ? [m.forwardSubject] : []))]
    const topics = createTopicAccess({ topics: config.topics, authorizerSubject: subjects.authorize, bus, metrics, logger })
    const instances = new HubInstances({ descriptor, bus, nodeId: config.nodeId, cluster, local: lifetime, invoker: clientResults, durableSubjects, topics, watches, outbound })
    startSubscriptions({ descriptor, instances, bus, logger, metrics, maxServicePayloadSize })
    const handler = new HubDispatcher({
      outbound,
      descriptor,
      instances,
      lifetime,
      clientResults,
      bus,
      nodeId: config.nodeId,
      enableDetailedErrors: config.hubs.enableDetailedErrors,
      maxParallelInvocationsPerClient: config.hubs.maxParallelInvocationsPerClient,
      maxQueuedInvocations: config.hubs.maxQueuedInvocations,
      invocationRate: { perSecond: config.hubs.maxInvocationsPerSecond, burst: config.hubs.invocationBurst },
      clientStreams: {
        maxStreamsPerInvocation: config.hubs.maxStreamsPerInvocation,
        maxClientStreamsPerConnection: config.hubs.maxClientStreamsPerConnection,
        streamBufferCapacity: config.hubs.streamBufferCapacity,
        maxStreamBufferBytes: config.hubs.maxStreamBufferBytes,
        // While its reading is held the client cannot be heard: the hub methods get as long to
        // take an item as the client has to send one.
        stallMs: config.hubs.clientTimeoutMs,
      },
      clientStreamPool,
      logger,
      metrics,
    })
    endpoint = new HubEndpoint({
      descriptor,
      handler,
      protocols,
      auth,
      cors,
      sweeper,
      maximumReceiveMessageSize: config.hubs.maximumReceiveMessageSize,
      negotiationTimeoutMs: config.hubs.negotiationTimeoutMs,
      longPollTimeoutMs: config.hubs.longPollTimeoutMs,
      longPollIdleTimeoutMs: config.hubs.longPollIdleTimeoutMs,
      statefulReconnectBufferSize: config.hubs.allowStatefulReconnects ? config.hubs.statefulReconnectBufferSize : undefined,
      nodeTag: tag,
      router: new ClusterRouter({
        bus,
        subjectPrefix: subjects.node,
        tag,
        // A relayed long poll may wait its whole timeout before it answers.
        relayTimeoutMs: config.hubs.longPollTimeoutMs + config.hubs.relayMarginMs,
        logger,
        metrics,
      }),
      limits,
      maxBuffered: { bytes: config.hubs.maxBufferedBytes, messages: config.hubs.maxBufferedMessages },
      groupsOf: (connectionId) => lifetime.groupsOfConnection(connectionId),
      writes,
      logger,
      metrics,
    })
    return endpoint
  })
  const byPath = new Map(endpoints.map((endpoint) => [endpoint.path.toLowerCase(), endpoint]))
  const internal = config.internalPort !== undefined
  const publishGuard = (host: string): PublishGuard =>
    new PublishGuard({
      apiKey: config.apiKey,
      listener: { host, loopbackOnly: isLoopbackHost(host) },
      subjects: descriptors.flatMap(serviceSubjects),
      own: descriptors.flatMap((d) => hubSubjects(d.name).own),
      isListedOrigin: (origin) => cors.isListed(origin),
    })
  // Set when a graceful stop begins; /healthz/ready answers 503 "draining" from then on.
  let draining = false
  const adminFor = (guard: PublishGuard, operatorPathsElsewhere: boolean): AdminEndpoints => new AdminEndpoints({
    bus,
    draining: () => draining,
    metrics,
    nodeId: config.nodeId,
    guard,
    operatorPathsElsewhere,
    maxServicePayloadSize,
    hubs: () => endpoints.map((e, i) => ({ name: descriptors[i]!.name, path: e.path, connections: e.connectionCount })),
    gauges: () => {
      const sum = (pick: (stats: LifetimeManager['shapingStats']) => number): number => lifetimes.reduce((total, l) => total + pick(l.shapingStats), 0)
      return {
        delivery_pending_spreads: sum((s) => s.pendingSpreads),
        delivery_open_collapse_slots: sum((s) => s.openCollapseSlots),
        delivery_collapsed: sum((s) => s.collapsed),
        delivery_collapse_overflows: sum((s) => s.collapseOverflows),
        delivery_spread_overflows: sum((s) => s.spreadOverflows),
        jetstream_duplicates_skipped: bus.duplicatesSkipped ?? 0,
        watches_open: watchFanout.stats.watchers,
        watch_subscriptions: watchFanout.stats.subjects,
        watch_payloads_not_json_total: watchFanout.stats.payloadsNotJson,
        ...offline?.gauges(),
      }
    },
  })
  const admin = adminFor(publishGuard(config.host), internal)
  // The node starts all the same: the publish endpoint is optional, the hubs are not.
  const publishHost = internal ? config.internalHost : config.host
  if (config.apiKey === undefined && !isLoopbackHost(publishHost)) {
    logger.info(`POST /api/publish refuses every publish: it listens on ${publishHost}, which other machines can reach, and no IM_API_KEY is set`)
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    setSafeHeaders(res)
    const url = parseTarget(req.url)
    if (!url) return sendText(res, 400, 'The request target is not a valid path.')
    // Hub routes are matched ignoring case, as ASP.NET Core routing does.
    const path = url.pathname.toLowerCase()
    const negotiate = path.endsWith('/negotiate') ? byPath.get(path.slice(0, -'/negotiate'.length)) : undefined
    const work = negotiate
      ? negotiate.negotiate(req, res, url)
      : admin.handle(req, res, url)
        ? undefined
        : byPath.get(path)?.request(req, res, url) ?? Promise.resolve(sendText(res, 404, 'Not found.'))
    work?.catch((error: unknown) => {
      logger.error('request failed', { path: url.pathname, error })
      if (!res.headersSent) sendText(res, 500, 'Internal server error.')
    })
  }
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    // A shared function, not a closure: the listener lives as long as the connection, and a
    // closure here would keep this call's context (the parsed URL and all) alive with it.
    socket.on('error', destroySocket)
    const url = parseTarget(req.url)
    if (!url) return refuseUpgrade(socket, 400, 'The request target is not a valid path.')
    const endpoint = byPath.get(url.pathname.toLowerCase())
    if (!endpoint) return refuseUpgrade(socket, 404, 'No hub at this path.')
    endpoint.upgrade(req, socket, head, url).catch((error: unknown) => {
      logger.error('upgrade failed', { path: url.pathname, error })
      refuseUpgrade(socket, 500)
    })
  }

  // Bounds on how long a client may take to send its request (not on long polls, which are responses).
  const { requestTimeoutMs } = config.hubs
  const http = createServer(
    {
      headersTimeout: Math.min(10_000, requestTimeoutMs),
      requestTimeout: requestTimeoutMs,
      // Node looks for requests past their time only this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, requestTimeoutMs),
    },
    onRequest,
  )
  http.on('upgrade', onUpgrade)
  // A request that took too long (headers or body) gets 408, as Node's default handler answers.
  http.on('clientError', (error: NodeJS.ErrnoException, socket) => refuseUpgrade(socket, error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400))
  // The operator's listener: health, metrics and publishing, nothing a browser calls.
  const internalAdmin = internal ? adminFor(publishGuard(config.internalHost), false) : undefined
  const internalHttp = internalAdmin
    ? createServer({ headersTimeout: Math.min(10_000, requestTimeoutMs), requestTimeout: requestTimeoutMs }, (req, res) => {
        setSafeHeaders(res)
        const url = parseTarget(req.url)
        if (!url || !internalAdmin.handle(req, res, url)) sendText(res, 404, 'Not found: the internal listener serves /healthz, /healthz/live, /healthz/ready, /metrics and /api/publish only.')
      })
    : undefined
  // A stream conflict found while starting is a configuration error: nothing listens yet, so
  // leaving NATS is all there is to undo.
  await bus.ready().catch(async (error: unknown) => {
    await bus.close()
    throw error
  })
  await listen(http, config.port, config.host)
  if (internalHttp) {
    await listen(internalHttp, config.internalPort ?? 0, config.internalHost).catch(async (error: unknown) => {
      http.close()
      await bus.close()
      throw new ImError(ImErrorCode.ConfigInvalid, `the internal listener cannot listen on ${config.internalHost}:${config.internalPort}: ${(error as Error).message}`, { cause: error })
    })
  }
  sweeper.start()
  offline?.start()
  const port = (http.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  return {
    url: urlOf(config.host, port),
    port,
    ...(internalHttp ? { internalUrl: urlOf(config.internalHost, (internalHttp.address() as AddressInfo).port) } : {}),
    nodeId: config.nodeId,
    bus,
    hubs: descriptors,
    metrics,
    close: () =>
      (closing ??= (async () => {
        // Graceful: stop listening, let every client know it may reconnect elsewhere, give what
        // is queued for them a moment to go out, then leave NATS cleanly. The public listener
        // closes first, as Kestrel's does: a balancer's connection to it is refused and goes to
        // another node, which is what lets a stateful-reconnect client move without a fresh
        // start. The internal listener stays to the end, answering /healthz/ready with 503.
        draining = true
        sweeper.stop()
        const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()))
        await Promise.all(endpoints.map((endpoint) => endpoint.drain(config.hubs.shutdownTimeoutMs)))
        for (const lifetime of lifetimes) lifetime.dispose()
        await Promise.all(presences.map((presence) => presence.stop(config.hubs.shutdownTimeoutMs))) // offline events, before NATS is left
        http.closeAllConnections()
        await httpClosed
        await offline?.close()
        await bus.close()
        if (internalHttp) {
          const internalClosed = new Promise<void>((resolve) => internalHttp.close(() => resolve()))
          internalHttp.closeAllConnections()
          await internalClosed
        }
        logger.flush()
      })()),
  }
}

/**
 * What services publish for a hub: its standard service subjects, and its `@Subscribe` subjects
 * in its own namespace (`im.<hub>.`) that these do not already cover.
 */
function serviceSubjects(descriptor: HubDescriptor): string[] {
  const standard = hubSubjects(descriptor.name).service
  const declared = descriptor.subscriptions
    .map((s) => s.subject)
    .filter((subject) => subject.startsWith(`im.${descriptor.name}.`) && !standard.some((pattern) => subjectCovers(pattern, subject)))
  return [...standard, ...new Set(declared)]
}

/** A URL to reach a listener on `host`: the loopback address for one bound to every interface. */
function urlOf(bound: string, port: number): string {
  const host = bound === '0.0.0.0' || bound === '::' ? '127.0.0.1' : bound
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

function destroySocket(this: Duplex): void {
  this.destroy()
}

/** The request target as a URL; undefined for one that is not a valid path (`//x:99999/`, `//[`). */
function parseTarget(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://localhost')
  } catch {
    return undefined
  }
}

function listen(http: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, host, () => {
      http.off('error', reject)
      resolve()
    })
  })
}

function assertUnique(descriptors: readonly HubDescriptor[]): void {
  const seen = new Map<string, string>()
  for (const d of descriptors) {
    for (const key of [`name ${d.name}`, `path ${d.path.toLowerCase()}`]) {
      const other = seen.get(key)
      if (other) throw new ImError(ImErrorCode.HubDefinitionInvalid, `${d.className} and ${other} share the hub ${key}`)
      seen.set(key, d.className)
    }
  }
}
