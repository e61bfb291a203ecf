/**
 * The authorizer service: a NATS request on `im.<hub>.authorize` with
 * `{ action, topic, userId, claims, connectionId }`, answered `{ "allow": true }` or
 * `{ "allow": false, "reason": "..." }`. Answers are reused per action, topic and user for a while;
 * no answer (nobody listening, too slow, NATS down, unreadable) refuses and is never reused.
 */
import type { Bus } from '../bus/bus.js'
import { isImError, ImErrorCode } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { AnswerCache } from './answer-cache.js'
import type { TopicAction, TopicCaller } from './topic-rules.js'

export interface TopicAuthorizerOptions {
  readonly bus: Bus
  /** `im.<hub>.authorize` */
  readonly subject: string
  readonly timeoutMs: number
  readonly cacheTtlMs: number
  readonly cacheSize: number
  readonly metrics: Metrics
  readonly logger: Logger
}

/** What the service is asked (docs/service-api.md). */
export interface AuthorizeRequest {
  readonly action: TopicAction
  readonly topic: string
  readonly userId: string | null
  readonly claims: Readonly<Record<string, unknown>>
  readonly connectionId: string
}

export type AuthorizerVerdict = { readonly allow: true } | { readonly allow: false; readonly reason: string; readonly answered: boolean }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
/** A service's reason reaches the client; a runaway one is cut here. */
const MAX_REASON = 200
const ALLOWED: AuthorizerVerdict = Object.freeze({ allow: true })

export class TopicAuthorizer {
  private readonly cache: AnswerCache<AuthorizerVerdict>

  constructor(private readonly options: TopicAuthorizerOptions) {
    this.cache = new AnswerCache({ ttlMs: options.cacheTtlMs, maxEntries: options.cacheSize })
  }

  /**
   * The service's verdict on `caller` doing `action` on `topic`. Answers are kept per action,
   * topic and user id (all anonymous callers share one), so a service must not decide by
   * connection id or by claims that differ between the tokens of one user.
   */
  decide(action: TopicAction, topic: string, caller: TopicCaller & { readonly connectionId: string }): Promise<AuthorizerVerdict> {
    const key = JSON.stringify([action, topic, caller.userId ?? null])
    const known = this.cache.get(key)
    if (known !== undefined) {
      this.options.metrics.inc('topic_authorizer_cache_hits')
      return Promise.resolve(known)
    }
    const request: AuthorizeRequest = { action, topic, userId: caller.userId ?? null, claims: caller.claims, connectionId: caller.connectionId }
    return this.cache.ask(key, () => this.ask(request), (verdict) => verdict.allow || verdict.answered)
  }

  private async ask(request: AuthorizeRequest): Promise<AuthorizerVerdict> {
    const { bus, subject, timeoutMs, metrics, logger } = this.options
    metrics.inc('topic_authorizer_requests')
    let answer: Uint8Array
    try {
      answer = await bus.request(subject, encoder.encode(JSON.stringify(request)), timeoutMs)
    } catch (error) {
      logger.debug('the topic authorizer gave no answer', { subject, topic: request.topic, error })
      if (isImError(error, ImErrorCode.BusTimeout)) {
        metrics.inc('topic_authorizer_timeouts')
        return unanswered(`the authorizer did not answer within ${timeoutMs} ms`)
      }
      if (isImError(error, ImErrorCode.BusNoResponders)) {
        metrics.inc('topic_authorizer_no_responders')
        return unanswered(`no authorizer service is listening on ${subject}`)
      }
      metrics.inc('topic_authorizer_failures')
      return unanswered('the authorizer cannot be reached')
    }
    const verdict = readVerdict(answer)
    if (verdict === undefined) {
      metrics.inc('topic_authorizer_failures')
      logger.warn('the topic authorizer answered something other than {"allow": true|false}', { subject, answer: decoder.decode(answer.subarray(0, 200)) })
      return unanswered(`the authorizer's answer could not be read`)
    }
    return verdict
  }
}

function unanswered(reason: string): AuthorizerVerdict {
  return { allow: false, reason, answered: false }
}

function readVerdict(answer: Uint8Array): AuthorizerVerdict | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(decoder.decode(answer))
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { allow?: unknown }).allow !== 'boolean') return undefined
  const { allow, reason } = parsed as { allow: boolean; reason?: unknown }
  if (allow) return ALLOWED
  const text = typeof reason === 'string' && reason.trim() !== '' ? reason.trim().slice(0, MAX_REASON) : 'the authorizer refused'
  return { allow: false, reason: text, answered: true }
}
