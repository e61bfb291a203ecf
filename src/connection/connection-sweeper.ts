/**
 * One timer for all connections instead of several per connection: every tick it looks at each
 * connection's state and asks it to act: end a handshake that took too long, abandon a detached
 * connection whose reconnect window has passed, and for an open one check its token, its
 * backpressure, its client's silence, the keep-alive ping and the stateful-reconnect Ack
 * (ASP.NET Core's HubConnectionContext.KeepAliveTick does the same on a 1 s heartbeat). It reads
 * the connection and calls its methods; it sets nothing on it.
 */
import { HandshakeError } from '../protocol/handshake.js'
import { CLOSE_ERROR_PREFIX } from '../protocol/messages.js'
import { ConnectionState } from './connection-lifecycle.js'
import type { HubConnection } from './hub-connection.js'

export interface SweeperOptions {
  readonly keepAliveIntervalMs: number
  readonly clientTimeoutMs: number
  readonly handshakeTimeoutMs: number
  /** How long a connection that lost its transport waits for a stateful reconnect. */
  readonly statefulReconnectWindowMs: number
  /**
   * Close connections whose access token has expired, allowing reconnect, so the client comes
   * back with a fresh token from its accessTokenFactory (ASP.NET Core's CloseOnAuthenticationExpiration).
   */
  readonly closeOnTokenExpiry?: boolean
  /** How often to look; default 1000 ms, or less when a configured interval is shorter. */
  readonly tickMs?: number
}

export class ConnectionSweeper {
  private readonly connections = new Set<HubConnection>()
  private timer: NodeJS.Timeout | undefined
  private readonly tickMs: number

  constructor(private readonly options: SweeperOptions) {
    const shortest = Math.min(options.keepAliveIntervalMs, options.clientTimeoutMs, options.handshakeTimeoutMs)
    this.tickMs = options.tickMs ?? Math.max(10, Math.min(1000, Math.floor(shortest / 4)))
  }

  add(connection: HubConnection): void {
    this.connections.add(connection)
  }

  remove(connection: HubConnection): void {
    this.connections.delete(connection)
  }

  start(): void {
    this.timer ??= setInterval(() => this.sweep(Date.now()), this.tickMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  sweep(now: number): void {
    for (const connection of this.connections) {
      switch (connection.state) {
        case ConnectionState.Handshaking:
          if (now - connection.createdAt >= this.options.handshakeTimeoutMs) connection.failHandshake(HandshakeError.canceled)
          break
        case ConnectionState.Detached:
        case ConnectionState.MovingIn:
          if (now - connection.detachedSince! >= this.options.statefulReconnectWindowMs) connection.abandon()
          break
        case ConnectionState.Open:
          this.sweepOpen(connection, now)
      }
    }
  }

  private sweepOpen(connection: HubConnection, now: number): void {
    if (this.options.closeOnTokenExpiry && connection.expiresAt !== undefined && now >= connection.expiresAt) {
      return connection.close({ allowReconnect: true })
    }
    connection.checkBackpressure(now)
    // Long polling has an inherent keep-alive, the poll itself, and its client sends no pings
    // (TransportProtocols.md): the transport ends an abandoned connection itself.
    if (connection.state !== ConnectionState.Open || connection.transport.name === 'LongPolling') return
    // A connection whose reading is held is bounded by its stream stall time instead (isSilent).
    if (connection.isSilent(now, this.options.clientTimeoutMs)) {
      return connection.close({
        error: `${CLOSE_ERROR_PREFIX} OperationCanceledException: Client hasn't sent a message/ping within the configured ClientTimeoutInterval.`,
        allowReconnect: true,
      })
    }
    connection.keepAliveTick(now, this.options.keepAliveIntervalMs)
    // Stateful reconnect acks at most once per tick (ASP.NET Core: once a second).
    connection.sendAck()
  }
}
