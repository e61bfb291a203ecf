/**
 * Connections of one hub by connection token, from negotiate until they end. The token is the
 * only key that opens a connection or reaches it over HTTP (long polling and SSE send every
 * request with it): 16 random bytes, never logged, never sent to services (negotiate v1,
 * TransportProtocols.md). A negotiated token whose transport never comes is forgotten after the
 * negotiation timeout (`hubs.negotiationTimeoutMs`), as ASP.NET Core disposes negotiated
 * connections that are never used.
 */
import type { Principal } from '../auth/principal.js'
import type { HubConnection } from '../connection/hub-connection.js'
import { ConnectionEntry } from './connection-entry.js'
import { newConnectionKey } from './node-tag.js'

export class ConnectionRegistry {
  private readonly byToken = new Map<string, ConnectionEntry>()
  /** Tokens this node issued whose connection another node took over, with that node's tag. */
  private readonly handedOver = new Map<string, string>()
  /** The connection ids of those tokens (by token, and as a set), for questions asked by connection id (client results). */
  private readonly handedOverIds = new Map<string, string>()
  private readonly handedOverById = new Set<string>()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly unusedTtlMs: number,
    private readonly tag: string,
  ) {}

  get size(): number {
    return this.byToken.size
  }

  /** Negotiate v0 has no token: the connection id opens the connection. */
  create(principal: Principal, negotiateVersion: number, statefulReconnect = false): ConnectionEntry {
    const connectionId = newConnectionKey(this.tag)
    const token = negotiateVersion > 0 ? newConnectionKey(this.tag) : connectionId
    const entry = new ConnectionEntry(connectionId, token, principal, statefulReconnect)
    this.byToken.set(token, entry)
    this.startSweeping()
    return entry
  }

  /** A connection opened without negotiate (skipNegotiation): known by no token. */
  anonymousEntry(principal: Principal): ConnectionEntry {
    const id = newConnectionKey(this.tag)
    return new ConnectionEntry(id, id, principal, false)
  }

  get(token: string): ConnectionEntry | undefined {
    const entry = this.byToken.get(token)
    if (!entry) return undefined
    return entry.connection || Date.now() - entry.createdAt <= this.unusedTtlMs ? entry : undefined
  }

  /** Another node opens the connection: it holds it from now on. */
  handOver(entry: ConnectionEntry, tag: string): void {
    this.byToken.delete(entry.token)
    this.handedOver.set(entry.token, tag)
    this.handedOverIds.set(entry.token, entry.connectionId)
    this.handedOverById.add(entry.connectionId)
  }

  /** True when the connection `connectionId` is held by another node this one handed it to. */
  isHandedOver(connectionId: string): boolean {
    return this.handedOverById.has(connectionId)
  }

  /** The tag of the node that took over `token`, if one did. */
  holderOf(token: string): string | undefined {
    return this.handedOver.get(token)
  }

  forget(token: string): void {
    this.forgetHandedOver(token)
  }

  private forgetHandedOver(token: string): void {
    this.handedOver.delete(token)
    const id = this.handedOverIds.get(token)
    if (id === undefined) return
    this.handedOverIds.delete(token)
    this.handedOverById.delete(id)
  }

  /** A connection this node issued moved on to the node `tag`. */
  movedTo(token: string, tag: string): void {
    if (!this.byToken.has(token)) this.handedOver.set(token, tag)
  }

  /** Takes over a connection another node negotiated. */
  adopt(token: string, connectionId: string, principal: Principal, statefulReconnect: boolean): ConnectionEntry {
    const entry = new ConnectionEntry(connectionId, token, principal, statefulReconnect)
    this.byToken.set(token, entry)
    this.forgetHandedOver(token)
    this.startSweeping()
    return entry
  }

  delete(entry: ConnectionEntry): void {
    if (this.byToken.get(entry.token) === entry) this.byToken.delete(entry.token)
  }

  /** Every connection a transport opened. */
  *open(): IterableIterator<HubConnection> {
    for (const entry of this.byToken.values()) if (entry.connection) yield entry.connection
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private startSweeping(): void {
    if (this.timer) return
    this.timer = setInterval(() => {
      const oldest = Date.now() - this.unusedTtlMs
      let unused = 0
      for (const [token, entry] of this.byToken) {
        if (entry.connection) continue
        if (entry.createdAt < oldest) this.byToken.delete(token)
        else unused++
      }
      if (unused === 0) this.stop()
    }, Math.min(this.unusedTtlMs, 1000))
    this.timer.unref()
  }
}
