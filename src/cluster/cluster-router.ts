/**
 * No sticky sessions: a request for a connection this node does not have is served through the
 * node that has it. A connection token starts with the tag of the node that negotiated it
 * (node-tag.ts), so any node knows whom to ask (`im.<hub>.node.<tag>` over NATS). The messages
 * are defined in control-messages.ts:
 * - `claim`: the request opens a transport (WebSocket, SSE, first poll) for a token negotiated
 *   elsewhere and not opened yet: the negotiating node hands the connection over, and this node
 *   holds it from then on. For an opened connection the answer names the node holding it.
 * - `http`: a poll, send or delete for a connection held elsewhere is played on the holding node
 *   and its response carried back.
 * - `ended`: a handed-over connection ended, so its negotiating node forgets where it went.
 * - `take`: a stateful-reconnect WebSocket came back here for a connection another node holds
 *   (it is draining): after a claim that answered with an offer, the holder hands over the
 *   connection's state and ends it there (connection-move.ts).
 * - `held`: a connection moved; its negotiating node now sends requests for it to the new holder.
 *
 * A claim for a resume whose issuing node is gone (a connection moved twice in a rolling restart)
 * goes to `im.<hub>.node.any`: every node hears it, and only the one holding the connection answers.
 *
 * A question that gets no answer says why (`Unanswered`), as NATS tells: `node-gone` when nobody
 * listens on the node's subject (the node has stopped), `node-slow` when it listens but did not
 * answer in time, `bus-down` when this node is not connected to NATS, `bad-answer` when the answer
 * is not one this version can read. located.ts turns each into what the client is told.
 */
import type { Bus, BusMessage } from '../bus/bus.js'
import { ImErrorCode, isImError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import {
  decodeClaimAnswer,
  decodeRelayedResponse,
  decodeRequest,
  decodeTakeAnswer,
  encodeClaimAnswer,
  encodeRelayedResponse,
  encodeRequest,
  encodeTakeAnswer,
} from './control-messages.js'
import type { Claim, ClaimAnswer, ControlRequest, Decoded, RelayedRequest, RelayedResponse, TakeAnswer } from './control-messages.js'
import { tagOf } from './node-tag.js'

/** Why a question to another node got no answer. */
export type Unanswered =
  | { readonly kind: 'node-gone'; readonly node: string }
  | { readonly kind: 'node-slow'; readonly node: string }
  | { readonly kind: 'bus-down' }
  | { readonly kind: 'bad-answer'; readonly node: string; readonly reason: string }

export type RelayAnswer = { readonly kind: 'relayed'; readonly response: RelayedResponse } | Unanswered

/** What the asking node says in a claim; the router adds the token and its own tag. */
export type ClaimQuestion = Pick<Claim, 'opening' | 'resume' | 'userId'>

/** What the hub's locator does for the router on the node that answers. */
export interface RouterHandlers {
  /** Answered in the same turn it arrives: connection-move.ts relies on it. */
  claim(claim: Claim): ClaimAnswer
  replay(request: RelayedRequest): Promise<RelayedResponse>
  forget(token: string): void
  /** Hands over a connection offered to `by`. */
  take(token: string, by: string): Promise<TakeAnswer>
  /** A connection this node issued moved to `by`. */
  held(token: string, by: string): void
}

export interface ClusterRouterOptions {
  readonly bus: Bus
  /** `im.<hub>.node` */
  readonly subjectPrefix: string
  readonly tag: string
  /** How long a relayed request may take (a long poll waits up to its timeout). */
  readonly relayTimeoutMs: number
  readonly logger: Logger
  readonly metrics: Metrics
}

const CLAIM_TIMEOUT_MS = 2000
/** Nobody answers a claim sent to every node when no node holds the connection: do not wait long. */
const ANYONE_TIMEOUT_MS = 500
/** A take waits for the connection's running invocations (up to SETTLE_MS on the holder). */
export const SETTLE_MS = 2000
const ANYONE = 'any'

export class ClusterRouter {
  constructor(private readonly options: ClusterRouterOptions) {}

  start(handlers: RouterHandlers): void {
    const { bus, subjectPrefix, tag } = this.options
    bus.subscribe(`${subjectPrefix}.${tag}`, (message) => this.serve(message, handlers))
    bus.subscribe(`${subjectPrefix}.${ANYONE}`, (message) => this.serve(message, handlers))
  }

  /**
   * Asks the node that issued `token` about it, or the node `at` (which holds it). A token no
   * node could have issued is unknown without asking.
   */
  async claim(token: string, question: ClaimQuestion, at?: string): Promise<ClaimAnswer | Unanswered> {
    const node = at ?? tagOf(token)
    if (node === undefined) return { kind: 'unknown' }
    this.options.metrics.inc('connection_claims')
    const request: Claim = { kind: 'claim', token, by: this.options.tag, ...question, anyone: false }
    return this.ask(node, request, CLAIM_TIMEOUT_MS, decodeClaimAnswer)
  }

  /**
   * Asks every node about a resumed `token`: only the node holding it answers, with an offer.
   * Silence (or no other node at all) means no node holds it.
   */
  async claimAnyone(token: string, question: ClaimQuestion): Promise<ClaimAnswer | Unanswered> {
    this.options.metrics.inc('connection_claims')
    const request: Claim = { kind: 'claim', token, by: this.options.tag, ...question, anyone: true }
    const answer = await this.ask(ANYONE, request, ANYONE_TIMEOUT_MS, decodeClaimAnswer)
    return answer.kind === 'node-gone' || answer.kind === 'node-slow' ? { kind: 'unknown' } : answer
  }

  /** Takes over a connection `holder` offered. */
  take(holder: string, token: string): Promise<TakeAnswer | Unanswered> {
    return this.ask(holder, { kind: 'take', token, by: this.options.tag }, SETTLE_MS + CLAIM_TIMEOUT_MS, decodeTakeAnswer)
  }

  /** Tells the node that issued `token` that this node holds it now. */
  held(token: string): void {
    this.tell(token, { kind: 'held', token, by: this.options.tag })
  }

  relay(holder: string, request: RelayedRequest): Promise<RelayAnswer> {
    this.options.metrics.inc('requests_relayed')
    return this.ask(holder, { kind: 'http', request }, this.options.relayTimeoutMs, (bytes) => {
      const decoded = decodeRelayedResponse(bytes)
      return decoded.ok ? { ok: true, value: { kind: 'relayed', response: decoded.value } } : decoded
    })
  }

  /** Tells the issuing node that a connection it handed over has ended. */
  ended(token: string): void {
    this.tell(token, { kind: 'ended', token })
  }

  /** Sends a notice (no answer expected) to the node that issued `token`, unless that is this node. */
  private tell(token: string, request: ControlRequest): void {
    const node = tagOf(token)
    if (node === undefined || node === this.options.tag) return
    this.options.bus.publish(`${this.options.subjectPrefix}.${node}`, encodeRequest(request), { confirm: false }).catch(() => {})
  }

  private async ask<T>(node: string, request: ControlRequest, timeoutMs: number, decode: (bytes: Uint8Array) => Decoded<T>): Promise<T | Unanswered> {
    let bytes: Uint8Array
    try {
      bytes = await this.options.bus.request(`${this.options.subjectPrefix}.${node}`, encodeRequest(request), timeoutMs)
    } catch (error) {
      const unanswered = unansweredBy(node, error)
      const fields = { node, op: request.kind, error }
      // A stopped node is routine in a rolling restart; a node that listens and does not answer is not.
      if (unanswered.kind === 'node-slow' && node !== ANYONE) this.options.logger.warn(`node ${node} did not answer a ${request.kind} within ${timeoutMs} ms`, fields)
      else this.options.logger.debug(`node-to-node ${request.kind} got no answer (${unanswered.kind})`, fields)
      return unanswered
    }
    const answer = decode(bytes)
    if (answer.ok) return answer.value
    this.options.logger.warn(`node ${node} answered a ${request.kind} with something this node cannot read: ${answer.reason}`, { node, op: request.kind })
    return { kind: 'bad-answer', node, reason: answer.reason }
  }

  private async serve(message: BusMessage, handlers: RouterHandlers): Promise<void> {
    const decoded = decodeRequest(message.data)
    if (!decoded.ok) {
      this.options.logger.warn(`dropped a node-to-node control message: ${decoded.reason}`, { subject: message.subject })
      return
    }
    const request = decoded.value
    let answer: Uint8Array | undefined
    switch (request.kind) {
      case 'claim': {
        // A claim sent to every node never takes over an unopened connection (nobody would hear the answer).
        const claim = handlers.claim(request.anyone ? { ...request, opening: false } : request)
        // Only the holder answers a claim sent to every node, and never its own.
        if (!request.anyone || (claim.kind === 'offer' && request.by !== this.options.tag)) answer = encodeClaimAnswer(claim)
        break
      }
      case 'http':
        answer = encodeRelayedResponse(await handlers.replay(request.request))
        break
      case 'take':
        answer = encodeTakeAnswer(await handlers.take(request.token, request.by))
        break
      case 'held':
        handlers.held(request.token, request.by)
        break
      case 'ended':
        handlers.forget(request.token)
        break
    }
    if (answer !== undefined && message.reply) await this.options.bus.publish(message.reply, answer).catch(() => {})
  }
}

/** What the bus's refusal of a request means for the node asked. */
function unansweredBy(node: string, error: unknown): Unanswered {
  if (isImError(error, ImErrorCode.BusNoResponders)) return { kind: 'node-gone', node }
  if (isImError(error, ImErrorCode.BusTimeout)) return { kind: 'node-slow', node }
  return { kind: 'bus-down' }
}
