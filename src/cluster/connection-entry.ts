/**
 * What this node knows of one connection token: who negotiated it and what they asked for, and,
 * once a transport opens it, the HubConnection. The entry keeps only what the connection does not
 * know (its token, when it was negotiated, the client address it counts against); the current
 * transport it reads from the connection, the one owner of it, so that a resume, which swaps the
 * transport on the connection, can never leave the entry pointing at another one.
 */
import type { Principal } from '../auth/principal.js'
import type { HubConnection } from '../connection/hub-connection.js'
import type { ServerTransport } from '../transports/transport.js'

export class ConnectionEntry {
  private connectionOpened: HubConnection | undefined
  private clientAddress: string | undefined

  constructor(
    readonly connectionId: string,
    readonly token: string,
    readonly principal: Principal,
    /** The client negotiated stateful reconnect, and the server allows it. */
    readonly statefulReconnect: boolean,
    readonly createdAt: number = Date.now(),
  ) {}

  /** The connection a transport opened for the token; undefined until one does. */
  get connection(): HubConnection | undefined {
    return this.connectionOpened
  }

  /** The connection's current transport (it changes on a resume); undefined until one opens. */
  get transport(): ServerTransport | undefined {
    return this.connectionOpened?.transport
  }

  /** The client address its connection counts against (ConnectionLimits), once open. */
  get address(): string | undefined {
    return this.clientAddress
  }

  /** A transport opened the token: `connection` is its connection from now on. */
  opened(connection: HubConnection, address: string | undefined): void {
    this.connectionOpened = connection
    this.clientAddress = address
  }
}
