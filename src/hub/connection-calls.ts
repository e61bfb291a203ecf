/**
 * What the dispatcher keeps per connection for its calls (the connection's lifecycle is
 * HubConnection's own). Everything is made on first use (the caller scope, the queue, the rate
 * limiter, the abort signal, the stream maps), since most connections of a gateway never call a
 * method, let alone stream: per-connection memory is what limits a node.
 */
import type { HubConnection } from '../connection/hub-connection.js'
import type { CallerScope } from './hub-instances.js'
import { InvocationQueue } from './invocation-queue.js'
import type { ClientStreams } from './client-streams.js'
import { RateLimiter } from './rate-limiter.js'

/** The per-connection limits, one object shared by every connection of a hub. */
export interface InvocationLimits {
  readonly parallel: number
  readonly perSecond: number
  readonly burst: number
}

export class ConnectionCalls {
  private scopeMade: CallerScope | undefined
  private queueMade: InvocationQueue | undefined
  private rateMade: RateLimiter | undefined
  /**
   * Since when the connection has been invoking over its rate: set at a refusal that follows a
   * quiet second (beyond the throttle pause), kept while refusals go on (the calls the bucket
   * refills let through do not make a flood a pause).
   */
  floodingSince: number | undefined
  lastRefusedAt = 0
  /**
   * Settles when the hub's onConnected has finished: true when it returned, false when it threw.
   * Undefined for a hub without onConnected (and for a connection that moved here, whose
   * onConnected ran on its first node).
   */
  connected: Promise<boolean> | undefined
  private controller: AbortController | undefined
  private isEnded = false
  /** Server-to-client streams by invocation id, to cancel them. */
  private outgoing: Map<string, AbortController> | undefined
  /** Client-to-server streams. */
  private streamsMade: ClientStreams | undefined

  /** `makeScope` and `makeStreams` are shared by the hub's connections (no closure per connection). */
  constructor(
    private readonly connection: HubConnection,
    private readonly limits: InvocationLimits,
    private readonly makeScope: (connection: HubConnection) => CallerScope,
    private readonly makeStreams: (connection: HubConnection) => ClientStreams,
  ) {}

  /** Who calls, as hub instances see it. */
  get scope(): CallerScope {
    return (this.scopeMade ??= this.makeScope(this.connection))
  }

  get queue(): InvocationQueue {
    return (this.queueMade ??= new InvocationQueue(this.limits.parallel))
  }

  get rate(): RateLimiter {
    return (this.rateMade ??= new RateLimiter(this.limits.perSecond, this.limits.burst))
  }

  /** Resolves once no invocation runs or waits (at once when none ever did). */
  idle(): Promise<void> {
    return this.queueMade?.idle() ?? Promise.resolve()
  }

  /** Aborted when the connection ends: every call of the connection sees it. */
  get endedSignal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.isEnded) this.controller.abort()
    }
    return this.controller.signal
  }

  /** The connection is gone: abort its calls and end the streams it was sending. */
  end(): void {
    this.isEnded = true
    this.controller?.abort()
    this.streamsMade?.end()
  }

  get streams(): ClientStreams {
    return (this.streamsMade ??= this.makeStreams(this.connection))
  }

  /** The client streams, if the connection ever opened one. */
  get streamsIfAny(): ClientStreams | undefined {
    return this.streamsMade
  }

  /** Ids of the server-to-client streams running. */
  outgoingIds(): string[] {
    return [...(this.outgoing?.keys() ?? [])]
  }

  outgoingStream(invocationId: string): AbortController | undefined {
    return this.outgoing?.get(invocationId)
  }

  addOutgoing(invocationId: string, cancel: AbortController): void {
    ;(this.outgoing ??= new Map()).set(invocationId, cancel)
  }

  removeOutgoing(invocationId: string): void {
    this.outgoing?.delete(invocationId)
  }
}
