/**
 * One timer for all connections instead of several per connection: every tick it sends the
 * keep-alive pings that are due, closes connections whose client went silent, and ends
 * handshakes that took too long (HubConnectionContext's KeepAliveTick in ASP.NET Core does the
 * same on a 1 s heartbeat).
 */
import { HandshakeError } from '../protocol/handshake.js'
import { CLOSE_ERROR_PREFIX } from '../protocol/messages.js'
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
    const { keepAliveIntervalMs, clientTimeoutMs, handshakeTimeoutMs, statefulReconnectWindowMs } = this.options
    for (const connection of this.connections) {
      if (connection.state === 'handshake') {
        if (now - connection.createdAt >= handshakeTimeoutMs) connection.failHandshake(HandshakeError.canceled)
        continue
      }
      if (connection.detachedAt !== undefined) {
        if (now - connection.detachedAt >= statefulReconnectWindowMs) connection.abandon()
        continue
      }
      if (connection.state !== 'connected') continue
      if (this.options.closeOnTokenExpiry && connection.expiresAt !== undefined && now >= connection.expiresAt) {
        connection.close({ allowReconnect: true })
        continue
      }
      connection.checkBackpressure(now)
      // Long polling has an inherent keep-alive, the poll itself, and its client sends no pings
      // (TransportProtocols.md): the transport ends an abandoned connection itself.
      if (connection.state !== 'connected' || connection.transport.name === 'LongPolling') continue
      // A connection whose reading is held is bounded by its stream stall time instead.
      if (!connection.receivingHeld && now - connection.lastReceivedAt >= clientTimeoutMs) {
        connection.close({
          error: `${CLOSE_ERROR_PREFIX} OperationCanceledException: Client hasn't sent a message/ping within the configured ClientTimeoutInterval.`,
          allowReconnect: true,
        })
        continue
      }
      if (connection.wrote) {
        // Something went out since the last sweep: that keeps the client's server timeout at bay.
        connection.wrote = false
        connection.lastPingAt = now
      } else if (now - connection.lastPingAt >= keepAliveIntervalMs) {
        connection.sendPing()
      }
      // Stateful reconnect acks at most once per tick (ASP.NET Core: once a second).
      connection.sendAck()
    }
  }
}
