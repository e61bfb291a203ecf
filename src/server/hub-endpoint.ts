/**
 * The HTTP surface of one hub (TransportProtocols.md): `POST <path>/negotiate`, the WebSocket
 * upgrade on `<path>`, and for Server-Sent Events and long polling `GET` / `POST` / `DELETE` on
 * `<path>?id=<token>`. Every request is authenticated; a connection token only works for the user
 * who negotiated it. Status codes and texts are those of ASP.NET Core's HttpConnectionDispatcher.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import { expiresAt } from '../auth/principal.js'
import type { Principal } from '../auth/principal.js'
import type { ConnectionSweeper } from '../connection/connection-sweeper.js'
import { noTransport } from '../connection/connection-move.js'
import { OpeningRequest } from '../connection/opening-request.js'
import { postedInput } from '../connection/posted-input.js'
import { HubConnection } from '../connection/hub-connection.js'
import type { ConnectionSettings } from '../connection/hub-connection.js'
import type { InvocationHandler } from '../connection/invocation-handler.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { parseNegotiateVersion, writeNegotiateError, writeNegotiateResponse } from '../protocol/negotiate.js'
import { LongPollingTransport } from '../transports/long-polling-transport.js'
import { ServerSentEventsTransport } from '../transports/server-sent-events-transport.js'
import type { ServerTransport } from '../transports/transport.js'
import { TransportName } from '../transports/transport.js'
import { webSocketServerOptions, WebSocketTransport } from '../transports/websocket-transport.js'
import type { ClientWrites } from '../transports/client-writes.js'
import type { ClusterRouter } from '../cluster/cluster-router.js'
import { ConnectionLocator } from '../cluster/connection-locator.js'
import { ConnectionRegistry } from '../cluster/connection-registry.js'
import type { ConnectionEntry } from '../cluster/connection-entry.js'
import { refusalOf } from '../cluster/located.js'
import type { Located } from '../cluster/located.js'
import type { ConnectionLimits } from './connection-limits.js'
import { HubTransports } from './hub-transports.js'
import { CapturedResponse, captureRequest, replayRequest, sendRelayed } from './relayed-http.js'
import type { Cors } from './cors.js'
import { lowerCaseQuery, readBody, refuseUpgrade, sendJson, sendText } from './http-util.js'
import type { RequestAuthenticator } from './request-auth.js'
import { authenticateConnect } from './connect-auth.js'

export interface HubEndpointOptions {
  readonly descriptor: HubDescriptor
  readonly handler: InvocationHandler
  readonly protocols: ReadonlyMap<string, HubProtocol>
  readonly auth: RequestAuthenticator
  readonly cors: Cors
  readonly sweeper: ConnectionSweeper
  readonly maximumReceiveMessageSize: number
  /** A negotiated token whose transport is not opened within this time is forgotten. */
  readonly negotiationTimeoutMs: number
  readonly longPollTimeoutMs: number
  readonly longPollIdleTimeoutMs: number
  /** Unacknowledged bytes kept for stateful reconnect; undefined when it is not offered. */
  readonly statefulReconnectBufferSize: number | undefined
  /** This node's tag, the first characters of every connection id and token it issues. */
  readonly nodeTag: string
  /** Serves requests for connections other nodes hold (no sticky sessions). */
  readonly router: ClusterRouter
  /** Connections per user and per client address on this node (shared by every hub). */
  readonly limits: ConnectionLimits
  /** Bound on what a client may leave unread before it is closed. */
  readonly maxBuffered: { readonly bytes: number; readonly messages: number }
  /** The groups a connection of this node is in (from the hub's lifetime manager). */
  readonly groupsOf: (connectionId: string) => readonly string[]
  /** The server's one flush point for writes to clients, shared by every transport. */
  readonly writes: ClientWrites
  readonly logger: Logger
  readonly metrics: Metrics
}


type HttpTransport = LongPollingTransport | ServerSentEventsTransport

export class HubEndpoint {
  readonly path: string
  private readonly registry: ConnectionRegistry
  private readonly locator: ConnectionLocator
  private readonly wss: WebSocketServer
  /** Open connections, with the entry each was opened for. */
  private readonly open = new Map<HubConnection, ConnectionEntry>()
  /** Largest POST body: the client joins queued sends, so several messages may travel at once. */
  private readonly maxBody: number
  /** Set when the node shuts down: new connections are refused with 503. */
  private draining = false
  /** Connections let go at shutdown, until they have moved to another node or ended. */
  private readonly whenGone = new Map<HubConnection, () => void>()
  /** What every connection of this hub shares. */
  private readonly settings: ConnectionSettings
  /** The transports this hub serves. */
  private readonly transports: HubTransports

  constructor(private readonly options: HubEndpointOptions) {
    this.path = options.descriptor.path
    this.transports = new HubTransports(options.descriptor.transports)
    this.registry = new ConnectionRegistry(options.negotiationTimeoutMs, options.nodeTag)
    this.maxBody = Math.max(64 * 1024, options.maximumReceiveMessageSize * 4)
    this.settings = {
      protocols: options.protocols,
      handler: options.handler,
      maximumReceiveMessageSize: options.maximumReceiveMessageSize,
      maxBuffered: options.maxBuffered,
      logger: options.logger,
      onSlowConsumer: () => options.metrics.inc('connections_closed_slow_consumer'),
      onInvalidData: () => options.metrics.inc('connections_closed_invalid_data'),
      // Only connections that negotiated it use it (see attach).
      statefulReconnectBufferSize: options.statefulReconnectBufferSize ?? 0,
      onEnded: (connection) => this.connectionEnded(connection),
    }
    this.wss = new WebSocketServer(webSocketServerOptions(this.maxBody))
    this.locator = new ConnectionLocator({
      registry: this.registry,
      router: options.router,
      nodeTag: options.nodeTag,
      handler: options.handler,
      groupsOf: options.groupsOf,
    })
    this.locator.start(async (relayed) => {
      const res = new CapturedResponse()
      await this.request(replayRequest(relayed), res.asServerResponse, new URL(relayed.url, 'http://relayed'), true)
      return res.done
    })
  }

  get connectionCount(): number {
    return this.open.size
  }

  /** True when this node negotiated `connectionId` and another node opened it and holds it. */
  isHandedOver(connectionId: string): boolean {
    return this.registry.isHandedOver(connectionId)
  }

  /** `POST <path>/negotiate` */
  async negotiate(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (this.options.cors.handle(req, res, `${this.path}/negotiate`) === 'done') return
    if (req.method !== 'POST') return sendText(res, 405, 'Negotiate requires POST.', { Allow: 'POST' })
    if (this.draining) return sendText(res, 503, 'This server is shutting down; try another.')
    const query = lowerCaseQuery(url)
    const version = parseNegotiateVersion(query.get('negotiateversion'))
    // Negotiate errors travel as 200 with {"error": ...}; the client reports the text (TransportProtocols.md).
    if ('error' in version) return sendJson(res, 200, writeNegotiateError(version.error))
    const principal = await authenticateConnect(this.options, req, query, res)
    if (!principal) return
    const refused = this.options.limits.check(principal.userId, req.socket.remoteAddress)
    if (refused) return sendText(res, 429, refused)
    // Offered only when both sides want it (TransportProtocols.md; HttpConnectionDispatcher).
    const stateful = query.get('usestatefulreconnect') === 'true' && this.options.statefulReconnectBufferSize !== undefined
    const entry = this.registry.create(principal, version.version, stateful)
    sendJson(
      res,
      200,
      writeNegotiateResponse({
        ...(stateful ? { useStatefulReconnect: true } : {}),
        negotiateVersion: version.version,
        connectionId: entry.connectionId,
        connectionToken: version.version > 0 ? entry.token : undefined,
        availableTransports: this.transports.available,
      }),
    )
  }

  /** `GET <path>?id=<token>` with `Upgrade: websocket`; without `id` when the client skipped negotiate. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    // Browsers send Origin on every WebSocket and never preflight it: this is the only check.
    const crossOrigin = this.options.cors.refuseUpgrade(req, this.path)
    if (crossOrigin) return refuseUpgrade(socket, 403, crossOrigin)
    if (this.draining) return refuseUpgrade(socket, 503, 'This server is shutting down; try another.')
    const query = lowerCaseQuery(url)
    const principal = await authenticateConnect(this.options, req, query, socket)
    if (!principal) return
    const token = query.get('id')
    // As ASP.NET Core: the connection is looked up first, then the transport checked.
    const disabled = this.transports.refusal(TransportName.WebSockets)
    const request = this.opening(req, url, TransportName.WebSockets)
    let entry: ConnectionEntry
    if (token === null) {
      if (disabled) return refuseUpgrade(socket, 404, disabled)
      entry = this.registry.anonymousEntry(principal)
    } else {
      const located = await this.locator.locate(token, principal, true, true)
      if (located.kind === 'movable') return this.moveHere(req, socket, head, token, principal, located, request)
      // A WebSocket cannot be relayed: a connection held by another node is not found here.
      if (located.kind !== 'found') return refuseUpgrade(socket, ...refusalOf(located))
      const found = located.entry
      if (disabled) return refuseUpgrade(socket, 404, disabled)
      // A client coming back after a lost WebSocket (stateful reconnect) resumes its connection.
      if (found.connection?.canResume) {
        const connection = found.connection
        // The connection swaps its transport; the entry reads it from there (connection-entry.ts).
        return this.wss.handleUpgrade(req, socket, head, (ws) => connection.resume(new WebSocketTransport(ws, socket, this.options.writes), request))
      }
      // One transport per connection: a second socket on a live connection is a conflict.
      if (found.transport) return refuseUpgrade(socket, found.transport.name === TransportName.WebSockets ? 409 : 400, 'Cannot change transports mid-connection')
      entry = found
    }
    const refused = this.options.limits.check(principal.userId, req.socket.remoteAddress)
    if (refused) return refuseUpgrade(socket, 429, refused)
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.attach(entry, new WebSocketTransport(ws, socket, this.options.writes), req.socket.remoteAddress, request)
    })
  }

  /**
   * `GET`, `POST` and `DELETE` on `<path>?id=<token>`: Server-Sent Events and long polling.
   * `relayed` marks a request another node passed on: answered from this node's connections only.
   */
  async request(req: IncomingMessage, res: ServerResponse, url: URL, relayed = false): Promise<void> {
    if (!relayed && this.options.cors.handle(req, res, this.path) === 'done') return
    if (req.method !== 'GET' && req.method !== 'POST' && req.method !== 'DELETE') return sendText(res, 405, '', { Allow: 'GET, POST, DELETE' })
    const query = lowerCaseQuery(url)
    const token = query.get('id')
    if (!token) return sendText(res, 400, 'Connection ID required')
    const principal = await authenticateConnect(this.options, req, query, res)
    if (!principal) return
    const found = relayed ? this.locator.find(token, principal) : await this.locator.locate(token, principal, req.method === 'GET')
    if (found.kind === 'elsewhere') return this.relay(found.holder, req, res)
    if (found.kind !== 'found') return sendText(res, ...refusalOf(found))
    const entry = found.entry
    if (req.method === 'GET') return this.receiveGet(req, res, entry, url)
    if (req.method === 'POST') return this.receivePost(req, res, entry)
    if (entry.transport instanceof LongPollingTransport) {
      entry.transport.terminate()
      return sendText(res, 202, '')
    }
    sendText(res, 400, 'Cannot terminate this connection using the DELETE endpoint.')
  }

  /**
   * Stops taking connections, ends every connection with a Close that lets its client reconnect
   * (to another node), and resolves once what was queued for the clients has gone out, or at the
   * deadline.
   */
  async drain(deadlineMs: number): Promise<void> {
    this.draining = true
    const waiting: Promise<void>[] = []
    for (const connection of [...this.open.keys()]) {
      // A stateful-reconnect client is let go without a Close: it comes back on another node,
      // which takes the connection over with everything not yet acknowledged (connection-move.ts).
      if (connection.suspend()) {
        waiting.push(new Promise((resolve) => this.whenGone.set(connection, resolve)))
        continue
      }
      const transport = connection.transport
      connection.close({ allowReconnect: true })
      waiting.push(transport.closed)
    }
    this.registry.stop()
    this.wss.close()
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)))
    await Promise.race([Promise.all(waiting), deadline])
    clearTimeout(timer)
    // Clients that did not come back in time end here (services hear of it).
    for (const connection of this.whenGone.keys()) connection.abandon()
  }

  private receiveGet(req: IncomingMessage, res: ServerResponse, entry: ConnectionEntry, url: URL): void {
    const wantsEvents = (req.headers.accept ?? '').includes('text/event-stream')
    const name = wantsEvents ? TransportName.ServerSentEvents : TransportName.LongPolling
    const disabled = this.transports.refusal(name)
    if (disabled) return sendText(res, 404, disabled)
    const current = entry.transport
    if (current && current.name !== name) return sendText(res, 400, 'Cannot change transports mid-connection')
    if (current instanceof LongPollingTransport) return current.poll(req, res)
    if (current) return sendText(res, 409, 'A Server-Sent Events stream is already open for this connection.')
    const address = req.socket.remoteAddress
    const refused = this.options.limits.check(entry.principal.userId, address)
    if (refused) return sendText(res, 429, refused)
    // Kept from the stream's request, or the first poll's: later polls change nothing (ASP.NET Core).
    const request = this.opening(req, url, name)
    if (wantsEvents) {
      this.attach(entry, new ServerSentEventsTransport(req, res, this.options.writes), address, request)
      return
    }
    const transport = new LongPollingTransport({ longPollTimeoutMs: this.options.longPollTimeoutMs, longPollIdleTimeoutMs: this.options.longPollIdleTimeoutMs }, this.options.writes)
    this.attach(entry, transport, address, request)
    transport.poll(req, res)
  }

  private async receivePost(req: IncomingMessage, res: ServerResponse, entry: ConnectionEntry): Promise<void> {
    const connection = entry.connection
    if (!connection) return sendText(res, 404, 'No Connection with that ID')
    const transport = connection.transport
    if (transport.name === TransportName.WebSockets) return sendText(res, 405, 'POST requests are not allowed for WebSocket connections.')
    const http = transport as HttpTransport
    // One body at a time per connection, none while it holds back reading (ReceiveGate).
    if (!(await http.receiving.enter())) return sendText(res, 404, 'No Connection with that ID')
    let body: Buffer | undefined
    try {
      body = await readBody(req, this.maxBody)
      if (body === undefined) return sendText(res, 413, `The request body is larger than ${this.maxBody} bytes.`)
      // Read by the connection's protocol, not by the Content-Type (see postedInput).
      http.receive(postedInput(body, connection))
    } finally {
      http.receiving.leave()
    }
    sendText(res, 200, '')
  }

  private attach(entry: ConnectionEntry, transport: ServerTransport, address: string | undefined, request: OpeningRequest | undefined, movingIn?: { protocol: string }): HubConnection {
    const connection = new HubConnection({
      connectionId: entry.connectionId,
      principal: entry.principal,
      expiresAt: expiresAt(entry.principal),
      transport,
      ...(request ? { request } : {}),
      settings: this.settings,
      // Stateful reconnect is for WebSockets only; the client turns it off on other transports.
      stateful: entry.statefulReconnect && transport.name === TransportName.WebSockets && this.options.statefulReconnectBufferSize !== undefined,
      ...(movingIn ? { movingIn } : {}),
    })
    // Counted once the connection exists: connectionEnded releases it.
    this.options.limits.acquire(entry.principal.userId, address)
    entry.opened(connection, address)
    this.open.set(connection, entry)
    this.options.sweeper.add(connection)
    return connection
  }

  /** A connection of this node ended (or moved away): one function for all, no closure each. */
  private connectionEnded(connection: HubConnection): void {
    const entry = this.open.get(connection)
    if (!entry) return
    this.open.delete(connection)
    this.options.limits.release(entry.principal.userId, entry.address)
    this.options.sweeper.remove(connection)
    // A long poll's last messages (the Close) wait for its next poll: the token leads there until then.
    const transport = entry.transport
    if (transport instanceof LongPollingTransport) void transport.closed.then(() => this.forget(entry, connection))
    else this.forget(entry, connection)
    this.whenGone.get(connection)?.()
    this.whenGone.delete(connection)
  }

  /** The token of an ended connection leads nowhere any more. */
  private forget(entry: ConnectionEntry, connection: HubConnection): void {
    this.registry.delete(entry)
    // A connection that moved lives on: its new node tells the issuing node (`held`).
    if (!connection.moved) this.options.router.ended(entry.token)
  }

  /**
   * A stateful-reconnect WebSocket for a connection another node holds and offers to move
   * (connection-move.ts): collect its deliveries from now on, take its state, then let it resume
   * here. If the holder does not hand it over, the client is refused and reconnects afresh.
   */
  private async moveHere(req: IncomingMessage, socket: Duplex, head: Buffer, token: string, principal: Principal, found: Extract<Located, { kind: 'movable' }>, request: OpeningRequest | undefined): Promise<void> {
    const entry = this.registry.adopt(token, found.offer.connectionId, principal, true)
    let connection: HubConnection
    try {
      connection = this.attach(entry, noTransport(), req.socket.remoteAddress, undefined, { protocol: found.offer.protocol })
    } catch {
      this.registry.delete(entry)
      return refuseUpgrade(socket, 404, 'No Connection with that ID')
    }
    this.options.handler.onMovedHere(connection, found.offer.groups)
    const taken = await this.options.router.take(found.holder, token)
    if (taken.kind !== 'state' || socket.destroyed) {
      connection.abandonMove()
      return refuseUpgrade(socket, ...refusalOf(taken.kind === 'state' ? { kind: 'missing' } : taken))
    }
    this.options.handler.onMovedHere(connection, taken.state.groups)
    connection.completeMove(taken.state)
    this.options.router.held(token)
    // The moved connection's request is its client's reconnect, as for a resume on one node.
    this.wss.handleUpgrade(req, socket, head, (ws) => connection.resume(new WebSocketTransport(ws, socket, this.options.writes), request))
  }

  /** Plays a poll, send or delete on the node that holds the connection, and answers with its response. */
  private async relay(holder: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req, this.maxBody) : Buffer.alloc(0)
    if (body === undefined) return sendText(res, 413, `The request body is larger than ${this.maxBody} bytes.`)
    const answer = await this.options.router.relay(holder, captureRequest(req, body))
    if (answer.kind !== 'relayed') return sendText(res, ...refusalOf(answer))
    sendRelayed(res, answer.response)
  }

  /** What a connection keeps of the request that opens it; nothing for a hub that never reads it. */
  private opening(req: IncomingMessage, url: URL, transport: TransportName): OpeningRequest | undefined {
    if (!this.options.descriptor.keepsRequest) return undefined
    // The hub's own path string when they are equal: not one more string per connection.
    const path = url.pathname === this.path ? this.path : url.pathname
    return OpeningRequest.capture(req.headers, path, url.search, req.socket.remoteAddress, transport)
  }
}
