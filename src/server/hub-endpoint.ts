/**
 * The HTTP surface of one hub: `POST <path>/negotiate` and the WebSocket upgrade on `<path>`
 * (TransportProtocols.md). It authenticates the request, binds the connection token to the user
 * who negotiated it, and hands the open transport to a new HubConnection.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type { Principal } from '../auth/principal.js'
import type { ConnectionSweeper } from '../connection/connection-sweeper.js'
import { HubConnection } from '../connection/hub-connection.js'
import type { InvocationHandler } from '../connection/invocation-handler.js'
import { isImError } from '../errors.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import type { Logger } from '../logger.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { parseNegotiateVersion, writeNegotiateError, writeNegotiateResponse } from '../protocol/negotiate.js'
import type { AvailableTransport } from '../protocol/negotiate.js'
import { WebSocketTransport } from '../transports/websocket-transport.js'
import type { Cors } from './cors.js'
import { lowerCaseQuery, refuseUpgrade, sendJson, sendText } from './http-util.js'
import { newConnectionKey, PendingConnections } from './pending-connections.js'
import type { RequestAuthenticator } from './request-auth.js'

export interface HubEndpointOptions {
  readonly descriptor: HubDescriptor
  readonly handler: InvocationHandler
  readonly protocols: ReadonlyMap<string, HubProtocol>
  readonly auth: RequestAuthenticator
  readonly cors: Cors
  readonly sweeper: ConnectionSweeper
  readonly maxMessageSize: number
  readonly disconnectTimeoutMs: number
  readonly logger: Logger
}

const TRANSPORTS: AvailableTransport[] = [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }]

export class HubEndpoint {
  readonly path: string
  private readonly pending: PendingConnections
  private readonly wss: WebSocketServer
  private readonly open = new Set<HubConnection>()

  constructor(private readonly options: HubEndpointOptions) {
    this.path = options.descriptor.path
    this.pending = new PendingConnections(options.disconnectTimeoutMs)
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      perMessageDeflate: false,
      // One WebSocket message may batch several hub messages (the JS client joins queued sends),
      // so the frame limit is a multiple of the hub message limit, which the parser enforces.
      maxPayload: Math.max(64 * 1024, options.maxMessageSize * 4),
    })
  }

  get connectionCount(): number {
    return this.open.size
  }

  /** `POST <path>/negotiate` */
  async negotiate(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (this.options.cors.handle(req, res) === 'done') return
    if (req.method !== 'POST') return sendText(res, 405, 'Negotiate requires POST.', { Allow: 'POST' })
    const query = lowerCaseQuery(url)
    const version = parseNegotiateVersion(query.get('negotiateversion'))
    // Negotiate errors travel as 200 with {"error": ...}; the client reports the text (TransportProtocols.md).
    if ('error' in version) return sendJson(res, 200, writeNegotiateError(version.error))
    const principal = await this.authenticate(req, query, res)
    if (!principal) return
    const pending = this.pending.create(principal, version.version)
    sendJson(
      res,
      200,
      writeNegotiateResponse({
        negotiateVersion: version.version,
        connectionId: pending.connectionId,
        connectionToken: version.version > 0 ? pending.connectionToken : undefined,
        availableTransports: TRANSPORTS,
      }),
    )
  }

  /** `GET <path>?id=<token>` with `Upgrade: websocket`; without `id` when the client skipped negotiate. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    if (!this.options.cors.isAllowed(req.headers.origin)) return refuseUpgrade(socket, 403, `Origin '${req.headers.origin}' is not allowed.`)
    const query = lowerCaseQuery(url)
    const principal = await this.authenticate(req, query, socket)
    if (!principal) return
    const token = query.get('id')
    let connectionId: string
    if (token === null) {
      connectionId = newConnectionKey()
    } else {
      const pending = this.pending.get(token)
      if (!pending) return refuseUpgrade(socket, 404, 'No Connection with that ID')
      // The token is bound to whoever negotiated it: another user holding it opens nothing (and
      // cannot use it up, either).
      if (pending.principal.userId !== principal.userId) return refuseUpgrade(socket, 403, 'The connection belongs to another user.')
      this.pending.delete(token)
      connectionId = pending.connectionId
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(new WebSocketTransport(ws), connectionId, principal))
  }

  /** Ends every connection (allowing clients to reconnect elsewhere) and stops taking new ones. */
  close(): void {
    for (const connection of this.open) connection.close({ allowReconnect: true })
    this.pending.stop()
    this.wss.close()
  }

  private accept(transport: WebSocketTransport, connectionId: string, principal: Principal): void {
    const connection = new HubConnection({
      connectionId,
      principal,
      transport,
      protocols: this.options.protocols,
      handler: this.options.handler,
      maxMessageSize: this.options.maxMessageSize,
      logger: this.options.logger,
      onEnded: (ended) => {
        this.open.delete(ended)
        this.options.sweeper.remove(ended)
      },
    })
    this.open.add(connection)
    this.options.sweeper.add(connection)
  }

  /** Resolves the principal, or answers 401 and resolves undefined. */
  private async authenticate(req: IncomingMessage, query: URLSearchParams, out: ServerResponse | Duplex): Promise<Principal | undefined> {
    try {
      return await this.options.auth.authenticate(req, query, this.options.descriptor.authorize !== undefined)
    } catch (error) {
      if (!isImError(error)) throw error
      this.options.logger.info('refused a request with a bad or missing token', { hub: this.options.descriptor.name, reason: error.message })
      // The body stays empty so the client reports "Unauthorized: Status code '401'" as for
      // ASP.NET Core; the reason travels in WWW-Authenticate (RFC 6750 section 3).
      const challenge = `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`
      if ('writeHead' in out) out.writeHead(401, { 'WWW-Authenticate': challenge }).end()
      else refuseUpgrade(out, 401, '', { 'WWW-Authenticate': challenge })
      return undefined
    }
  }
}
