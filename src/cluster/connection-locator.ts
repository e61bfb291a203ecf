/**
 * Where a connection token leads in the cluster (located.ts), and the answers this node gives
 * other nodes about the tokens it issued or holds (cluster-router.ts carries the questions): a
 * connection negotiated elsewhere is taken over when it opens here, a request for one held
 * elsewhere names its holder, and a stateful-reconnect WebSocket for one held elsewhere moves it
 * here (connection-move.ts).
 */
import type { Principal } from '../auth/principal.js'
import type { InvocationHandler } from '../connection/invocation-handler.js'
import { SETTLE_MS } from './cluster-router.js'
import type { ClaimQuestion, ClusterRouter, Unanswered } from './cluster-router.js'
import type { ConnectionEntry } from './connection-entry.js'
import type { ConnectionRegistry } from './connection-registry.js'
import type { Claim, ClaimAnswer, RelayedRequest, RelayedResponse, TakeAnswer } from './control-messages.js'
import { FORBIDDEN, MISSING } from './located.js'
import type { Located } from './located.js'
import { tagOf } from './node-tag.js'

export interface ConnectionLocatorOptions {
  readonly registry: ConnectionRegistry
  readonly router: ClusterRouter
  readonly nodeTag: string
  readonly handler: InvocationHandler
  readonly groupsOf: (connectionId: string) => readonly string[]
}

const UNKNOWN: { readonly kind: 'unknown' } = { kind: 'unknown' }

export class ConnectionLocator {
  constructor(private readonly options: ConnectionLocatorOptions) {}

  /** Answers the other nodes; `replay` plays a relayed HTTP request on this node. */
  start(replay: (request: RelayedRequest) => Promise<RelayedResponse>): void {
    const { registry } = this.options
    this.options.router.start({
      claim: (claim) => this.answerClaim(claim),
      replay,
      forget: (token) => registry.forget(token),
      take: (token, by) => this.answerTake(token, by),
      held: (token, by) => registry.movedTo(token, by),
    })
  }

  /**
   * Finds the connection of `token` here or in the cluster. A connection another node negotiated
   * and nobody opened yet is taken over when this request opens it; one another node holds is
   * named by that node's tag. `resume`: a stateful-reconnect WebSocket asks, and the connection
   * may move here.
   */
  async locate(token: string, principal: Principal, opening: boolean, resume = false): Promise<Located> {
    const local = this.find(token, principal)
    if (local.kind !== 'missing') return local
    const { router, registry, nodeTag } = this.options
    const question: ClaimQuestion = { opening, resume, userId: principal.userId }
    const issuedHere = tagOf(token) === nodeTag
    // A connection this node issued and handed over: the node it went to holds it.
    const handedTo = issuedHere ? registry.holderOf(token) : undefined
    if (issuedHere && !resume) return handedTo !== undefined ? { kind: 'elsewhere', holder: handedTo } : MISSING
    let answer: ClaimAnswer | Unanswered
    if (issuedHere && handedTo === undefined) {
      // A resumed token of this node's tag that this node knows nothing of (another node, or
      // another life of this one, drew the same tag): asking itself would tell nothing.
      answer = await router.claimAnyone(token, question)
    } else {
      answer = await router.claim(token, question, handedTo)
      // The node asked is gone or silent, but the connection may have moved on from it: ask every
      // node. When none offers it, what that node's silence said stands.
      if (resume && isUnanswered(answer)) {
        const anyone = await router.claimAnyone(token, question)
        if (anyone.kind === 'offer') answer = anyone
      }
    }
    // The issuing node gave the connection to another node: a resuming client asks that one.
    if (resume && handedTo === undefined && answer.kind === 'held-by' && answer.holder !== nodeTag) {
      answer = await router.claim(token, question, answer.holder)
    }
    switch (answer.kind) {
      case 'unknown':
        return MISSING
      case 'forbidden':
        return FORBIDDEN
      case 'offer':
        return { kind: 'movable', offer: answer.offer, holder: answer.holder }
      case 'held-by':
        return answer.holder === nodeTag ? MISSING : { kind: 'elsewhere', holder: answer.holder }
      case 'handover':
        return { kind: 'found', entry: registry.adopt(token, answer.connectionId, principal, answer.statefulReconnect) }
      default:
        return answer
    }
  }

  /** The connection for `token` on this node, if it is this user's. */
  find(token: string, principal: Principal): { readonly kind: 'found'; readonly entry: ConnectionEntry } | typeof FORBIDDEN | typeof MISSING {
    const entry = this.options.registry.get(token)
    if (!entry) return MISSING
    // Bound to whoever negotiated it: another user holding the token opens and reads nothing.
    return entry.principal.userId === principal.userId ? { kind: 'found', entry } : FORBIDDEN
  }

  /** Answers another node asking about a token this node issued. */
  private answerClaim({ token, by, opening, resume, userId }: Claim): ClaimAnswer {
    const { registry, nodeTag } = this.options
    const entry = registry.get(token)
    if (!entry) {
      const holder = registry.holderOf(token)
      return holder !== undefined ? { kind: 'held-by', holder } : UNKNOWN
    }
    if (entry.principal.userId !== userId) return { kind: 'forbidden' }
    if (entry.connection) {
      // Step 1 of a move (connection-move.ts): its client's stateful reconnect reached `by`.
      const offer = resume ? entry.connection.offerMove(this.options.groupsOf(entry.connectionId)) : undefined
      return offer ? { kind: 'offer', offer, holder: nodeTag } : { kind: 'held-by', holder: nodeTag }
    }
    if (!opening) return UNKNOWN
    registry.handOver(entry, by)
    return { kind: 'handover', connectionId: entry.connectionId, userId, statefulReconnect: entry.statefulReconnect }
  }

  /** Hands over a connection offered to `by` (step 2 of connection-move.ts), once its invocations have answered. */
  private async answerTake(token: string, by: string): Promise<TakeAnswer> {
    const connection = this.options.registry.get(token)?.connection
    if (!connection?.canResume) return UNKNOWN
    const streams = await this.options.handler.settleForMove(connection, SETTLE_MS)
    const entry = this.options.registry.get(token)
    const state = connection.moveAway(this.options.groupsOf(connection.connectionId), streams)
    if (!state || !entry) return UNKNOWN
    this.options.registry.handOver(entry, by)
    return { kind: 'state', state }
  }
}

function isUnanswered(answer: ClaimAnswer | Unanswered): answer is Unanswered {
  return answer.kind === 'node-gone' || answer.kind === 'node-slow' || answer.kind === 'bus-down' || answer.kind === 'bad-answer'
}
