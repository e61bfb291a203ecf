/**
 * Where a connection token leads in the cluster, and the answers this node gives other nodes
 * about the tokens it issued or holds (cluster-router.ts carries the questions): a connection
 * negotiated elsewhere is taken over when it opens here, a request for one held elsewhere names
 * its holder, and a stateful-reconnect WebSocket for one held elsewhere moves it here
 * (connection-move.ts).
 */
import type { Principal } from '../auth/principal.js'
import { encodeMoveState } from '../connection/connection-move.js'
import type { MoveOffer } from '../connection/connection-move.js'
import type { InvocationHandler } from '../connection/invocation-handler.js'
import { ClusterRouter, SETTLE_MS } from './cluster-router.js'
import type { ClaimAnswer } from './cluster-router.js'
import type { ConnectionEntry, ConnectionRegistry } from './connection-registry.js'
import type { RelayedRequest, RelayedResponse } from './relayed-http.js'

/** Where a connection token leads. */
export type Located = ConnectionEntry | { readonly holder: string } | { readonly offer: MoveOffer; readonly holder: string } | 403 | 404

export interface ConnectionLocatorOptions {
  readonly registry: ConnectionRegistry
  readonly router: ClusterRouter
  readonly nodeTag: string
  readonly handler: InvocationHandler
  readonly groupsOf: (connectionId: string) => readonly string[]
}

export class ConnectionLocator {
  constructor(private readonly options: ConnectionLocatorOptions) {}

  /** Answers the other nodes; `replay` plays a relayed HTTP request on this node. */
  start(replay: (request: RelayedRequest) => Promise<RelayedResponse>): void {
    const { registry } = this.options
    this.options.router.start({
      claim: (token, by, opening, resume, userId) => this.answerClaim(token, by, opening, resume, userId),
      replay,
      forget: (token) => registry.forget(token),
      take: (token, by) => this.answerTake(token, by),
      held: (token, by) => registry.movedTo(token, by),
    })
  }

  /** Hands over a connection offered to `by` (step 2 of connection-move.ts), once its invocations have answered. */
  private async answerTake(token: string, by: string): Promise<unknown> {
    const connection = this.options.registry.get(token)?.connection
    if (!connection?.canResume) return undefined
    const streams = await this.options.handler.settleForMove(connection, SETTLE_MS)
    const entry = this.options.registry.get(token)
    const state = connection.moveAway(this.options.groupsOf(connection.connectionId), streams)
    if (!state || !entry) return undefined
    this.options.registry.handOver(entry, by)
    return encodeMoveState(state)
  }

  /**
   * Finds the connection of `token` here or in the cluster. A connection another node negotiated
   * and nobody opened yet is taken over when this request opens it; one another node holds is
   * named by that node's tag.
   */
  async locate(token: string, principal: Principal, opening: boolean, resume = false): Promise<Located> {
    const local = this.find(token, principal)
    if (local !== 404) return local
    let at: string | undefined
    let answer: ClaimAnswer | undefined
    if (ClusterRouter.tagOf(token) === this.options.nodeTag) {
      const holder = this.options.registry.holderOf(token)
      if (!resume) return holder ? { holder } : 404
      at = holder
    }
    // A token of this node's tag that this node knows nothing of (another node, or another life of
    // this one, drew the same tag): asking itself would tell nothing, so a resuming client asks
    // every node.
    if (at !== undefined || ClusterRouter.tagOf(token) !== this.options.nodeTag) {
      answer = await this.options.router.claim(token, opening, principal.userId, { resume, ...(at ? { at } : {}) })
    }
    // The issuing node is gone, but the connection may have moved on from it: ask every node.
    if (resume && !answer) answer = await this.options.router.claim(token, opening, principal.userId, { resume, anyone: true })
    // The issuing node gave the connection to another node: a resuming client asks that one.
    if (resume && at === undefined && answer && 'holder' in answer && !('offer' in answer) && answer.holder !== this.options.nodeTag) {
      answer = await this.options.router.claim(token, opening, principal.userId, { resume, at: answer.holder })
    }
    if (!answer || 'unknown' in answer) return 404
    if ('forbidden' in answer) return 403
    if ('offer' in answer) return answer
    if ('holder' in answer) return answer.holder === this.options.nodeTag ? 404 : { holder: answer.holder }
    return this.options.registry.adopt(token, answer.handover.connectionId, principal, answer.handover.statefulReconnect)
  }

  /** Answers another node asking about a token this node issued. */
  private answerClaim(token: string, by: string, opening: boolean, resume: boolean, userId: string | undefined): ClaimAnswer {
    const entry = this.options.registry.get(token)
    if (!entry) {
      const holder = this.options.registry.holderOf(token)
      return holder ? { holder } : { unknown: true }
    }
    if (entry.principal.userId !== userId) return { forbidden: true }
    if (entry.transport) {
      // Step 1 of a move (connection-move.ts): its client's stateful reconnect reached `by`.
      const offer = resume ? entry.connection?.offerMove(this.options.groupsOf(entry.connectionId)) : undefined
      return offer ? { offer, holder: this.options.nodeTag } : { holder: this.options.nodeTag }
    }
    if (!opening) return { unknown: true }
    this.options.registry.handOver(entry, by)
    return { handover: { connectionId: entry.connectionId, userId: userId ?? null, statefulReconnect: entry.statefulReconnect } }
  }

  /** The connection for `token`, or the status to refuse with: 404 unknown, 403 another user's. */
  find(token: string, principal: Principal): ConnectionEntry | 403 | 404 {
    const entry = this.options.registry.get(token)
    if (!entry) return 404
    // Bound to whoever negotiated it: another user holding the token opens and reads nothing.
    return entry.principal.userId === principal.userId ? entry : 403
  }
}
