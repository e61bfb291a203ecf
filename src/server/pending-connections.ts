/**
 * Connections that have negotiated but not yet opened a transport, keyed by connection token.
 * The token is the only key that opens a connection: 16 random bytes, never logged, never sent
 * to services (negotiate v1, TransportProtocols.md). Entries expire after the disconnect timeout,
 * as ASP.NET Core disposes negotiated connections that are never used.
 */
import { randomBytes } from 'node:crypto'
import type { Principal } from '../auth/principal.js'

export interface PendingConnection {
  readonly connectionId: string
  readonly connectionToken: string
  readonly principal: Principal
  readonly createdAt: number
}

/** 16 crypto-random bytes, base64url: what ASP.NET Core uses for ids and tokens. */
export function newConnectionKey(): string {
  return randomBytes(16).toString('base64url')
}

export class PendingConnections {
  private readonly byToken = new Map<string, PendingConnection>()
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly ttlMs: number) {}

  get size(): number {
    return this.byToken.size
  }

  /** Negotiate v0 has no token: the connection id opens the connection. */
  create(principal: Principal, negotiateVersion: number): PendingConnection {
    const connectionId = newConnectionKey()
    const connectionToken = negotiateVersion > 0 ? newConnectionKey() : connectionId
    const pending = { connectionId, connectionToken, principal, createdAt: Date.now() }
    this.byToken.set(connectionToken, pending)
    this.startSweeping()
    return pending
  }

  /** The live pending connection for `token`, left in place. */
  get(token: string): PendingConnection | undefined {
    const pending = this.byToken.get(token)
    return pending && Date.now() - pending.createdAt <= this.ttlMs ? pending : undefined
  }

  /** Removes the pending connection: each token opens one transport. */
  delete(token: string): void {
    this.byToken.delete(token)
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
    this.byToken.clear()
  }

  private startSweeping(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      const oldest = Date.now() - this.ttlMs
      for (const [token, pending] of this.byToken) if (pending.createdAt < oldest) this.byToken.delete(token)
      if (this.byToken.size === 0) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }, Math.min(this.ttlMs, 1000))
    this.timer.unref()
  }
}
