/**
 * No sticky sessions: a request for a connection this node does not have is served through the
 * node that has it. A connection token starts with the tag of the node that negotiated it, so any
 * node knows whom to ask (`im.<hub>.node.<tag>` over NATS):
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
 */
import type { Bus, BusMessage } from '../bus/bus.js'
import { decodeMoveState } from '../connection/connection-move.js'
import type { MoveOffer, MoveState } from '../connection/connection-move.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { RelayedRequest, RelayedResponse } from './relayed-http.js'

export type ClaimAnswer =
  | { readonly handover: { readonly connectionId: string; readonly userId: string | null; readonly statefulReconnect: boolean } }
  | { readonly holder: string }
  | { readonly unknown: true }
  | { readonly forbidden: true }
  /** The connection can move to the asking node: ask `holder` to take it. */
  | { readonly offer: MoveOffer; readonly holder: string }

type Op =
  | {
      readonly op: 'claim'
      readonly token: string
      readonly by: string
      readonly opening: boolean
      readonly resume: boolean
      readonly userId: string | null
      /** Sent to every node: only an offer is answered. */
      readonly anyone?: boolean
    }
  | { readonly op: 'http'; readonly request: RelayedRequest }
  | { readonly op: 'ended'; readonly token: string }
  | { readonly op: 'take'; readonly token: string; readonly by: string }
  | { readonly op: 'held'; readonly token: string; readonly by: string }

/** What the hub endpoint does for the router on the node that answers. */
export interface RouterHandlers {
  /** `resume`: a stateful-reconnect WebSocket asks, and may take the connection over. */
  claim(token: string, by: string, opening: boolean, resume: boolean, userId: string | undefined): ClaimAnswer
  replay(request: RelayedRequest): Promise<RelayedResponse>
  forget(token: string): void
  /** Hands over a connection offered to `by`; undefined when there is none to hand over. */
  take(token: string, by: string): Promise<unknown>
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
const TAG_LENGTH = 6
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ClusterRouter {
  constructor(private readonly options: ClusterRouterOptions) {}

  /**
   * The tag of the node that issued `token`; undefined for a token no node could have issued. The
   * tag becomes a subject token, so it must never carry '.', '*', '>' or spaces.
   */
  static tagOf(token: string): string | undefined {
    const tag = token.slice(0, TAG_LENGTH)
    return /^[A-Za-z0-9_-]{6}$/.test(tag) ? tag : undefined
  }

  start(handlers: RouterHandlers): void {
    this.options.bus.subscribe(`${this.options.subjectPrefix}.${this.options.tag}`, (message) => void this.serve(message, handlers))
    this.options.bus.subscribe(`${this.options.subjectPrefix}.any`, (message) => void this.serve(message, handlers))
  }

  /**
   * Asks the node that issued `token` about it (or the node `at`, which holds it); undefined when
   * that node cannot be reached.
   */
  async claim(token: string, opening: boolean, userId: string | undefined, options: { resume?: boolean; at?: string; anyone?: boolean } = {}): Promise<ClaimAnswer | undefined> {
    const tag = options.anyone ? 'any' : (options.at ?? ClusterRouter.tagOf(token))
    if (tag === undefined) return undefined
    this.options.metrics.inc('connection_claims')
    const op: Op = { op: 'claim', token, by: this.options.tag, opening, resume: options.resume === true, userId: userId ?? null, anyone: options.anyone === true }
    return this.ask<ClaimAnswer>(tag, op, options.anyone ? ANYONE_TIMEOUT_MS : CLAIM_TIMEOUT_MS)
  }

  /** Takes over a connection `holder` offered; undefined when it could not. */
  async take(holder: string, token: string): Promise<MoveState | undefined> {
    const answer = await this.ask<unknown>(holder, { op: 'take', token, by: this.options.tag }, SETTLE_MS + CLAIM_TIMEOUT_MS)
    return decodeMoveState(answer)
  }

  /** Tells the node that issued `token` that this node holds it now. */
  held(token: string): void {
    const tag = ClusterRouter.tagOf(token)
    if (tag === undefined || tag === this.options.tag) return
    const op: Op = { op: 'held', token, by: this.options.tag }
    this.options.bus.publish(`${this.options.subjectPrefix}.${tag}`, encoder.encode(JSON.stringify(op)), { confirm: false }).catch(() => {})
  }

  async relay(holder: string, request: RelayedRequest): Promise<RelayedResponse | undefined> {
    this.options.metrics.inc('requests_relayed')
    return this.ask<RelayedResponse>(holder, { op: 'http', request }, this.options.relayTimeoutMs)
  }

  /** Tells the issuing node that a connection it handed over has ended. */
  ended(token: string): void {
    const tag = ClusterRouter.tagOf(token)
    if (tag === undefined || tag === this.options.tag) return
    this.options.bus
      .publish(`${this.options.subjectPrefix}.${tag}`, encoder.encode(JSON.stringify({ op: 'ended', token } satisfies Op)), { confirm: false })
      .catch(() => {})
  }

  private async ask<T>(tag: string, op: Op, timeoutMs: number): Promise<T | undefined> {
    try {
      const answer = await this.options.bus.request(`${this.options.subjectPrefix}.${tag}`, encoder.encode(JSON.stringify(op)), timeoutMs)
      return JSON.parse(decoder.decode(answer)) as T
    } catch (error) {
      this.options.logger.debug('node-to-node request got no answer', { tag, op: op.op, error })
      return undefined
    }
  }

  private async serve(message: BusMessage, handlers: RouterHandlers): Promise<void> {
    let op: Op
    try {
      op = JSON.parse(decoder.decode(message.data)) as Op
    } catch {
      return
    }
    let answer: unknown
    // A claim is answered in the same turn it arrives: connection-move.ts relies on it.
    if (op.op === 'claim' && typeof op.token === 'string' && typeof op.by === 'string') {
      // A claim sent to every node never takes over an unopened connection (nobody would hear the answer).
      const opening = op.opening === true && op.anyone !== true
      answer = handlers.claim(op.token, op.by, opening, op.resume === true, typeof op.userId === 'string' ? op.userId : undefined)
      if (op.anyone === true && (op.by === this.options.tag || !(typeof answer === 'object' && answer !== null && 'offer' in answer))) answer = undefined
    }
    if (op.op === 'http' && typeof op.request === 'object' && op.request !== null) answer = await handlers.replay(op.request)
    else if (op.op === 'take' && typeof op.token === 'string' && typeof op.by === 'string') answer = (await handlers.take(op.token, op.by)) ?? { unknown: true }
    else if (op.op === 'held' && typeof op.token === 'string' && typeof op.by === 'string') handlers.held(op.token, op.by)
    else if (op.op === 'ended' && typeof op.token === 'string') handlers.forget(op.token)
    if (answer !== undefined && message.reply) {
      await this.options.bus.publish(message.reply, encoder.encode(JSON.stringify(answer))).catch(() => {})
    }
  }
}
