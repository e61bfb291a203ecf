/** How a HubConnection is made: what all connections of a hub share, and what each brings. */
import type { Principal } from '../auth/principal.js'
import type { Logger } from '../logger.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import type { ServerTransport } from '../transports/transport.js'
import type { HubConnection } from './hub-connection.js'
import type { InvocationHandler } from './invocation-handler.js'
import type { OpeningRequest } from './opening-request.js'
import type { OutboundBound } from './outbound-bound.js'

/** What every connection of a hub shares: made once, so that a connection holds one reference. */
export interface ConnectionSettings {
  /** Hub protocols by handshake name. */
  readonly protocols: ReadonlyMap<string, HubProtocol>
  readonly handler: InvocationHandler
  /** Largest incoming hub message in bytes (`hubs.maximumReceiveMessageSize`). */
  readonly maximumReceiveMessageSize: number
  /**
   * A client that leaves more than this many bytes (or messages, where the transport counts them)
   * unread is closed: one slow client must not grow the server's memory.
   */
  readonly maxBuffered: OutboundBound
  readonly logger: Logger
  /** Called when the connection is closed for not reading (for metrics). */
  readonly onSlowConsumer?: () => void
  /** Called when the connection is closed for a message its protocol cannot read (for metrics). */
  readonly onInvalidData?: () => void
  /** The stateful reconnect buffer limit in bytes, for connections that negotiated it. */
  readonly statefulReconnectBufferSize: number
  /** Called once when a connection has ended (or moved to another node), after the handler heard of it. */
  readonly onEnded?: (connection: HubConnection) => void
  /** Milliseconds since the epoch; Date.now unless a test drives time itself. */
  readonly clock?: () => number
}

export interface HubConnectionOptions {
  readonly connectionId: string
  readonly principal: Principal
  /** When the principal's access token expires (ms since the epoch), if it does. */
  readonly expiresAt?: number
  readonly transport: ServerTransport
  /** The HTTP request that opened the transport (this.context.http); none for one moving in. */
  readonly request?: OpeningRequest
  readonly settings: ConnectionSettings
  /**
   * The client negotiated stateful reconnect: it takes effect if the handshake asks for protocol
   * version 2 or more, as ASP.NET Core requires.
   */
  readonly stateful?: boolean
  /**
   * The connection is moving here from another node (connection-move.ts): it starts moving in
   * (connection-lifecycle.ts) with this protocol, collecting what is sent to it until
   * `completeMove`; the transport given is a placeholder that is never written to.
   */
  readonly movingIn?: { readonly protocol: string }
}
