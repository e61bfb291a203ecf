/**
 * Topic rules as the hub applies them: the first rule whose pattern matches the topic decides who
 * may watch or publish it. Pure: the caller is a user id and claims, the answer a decision whose
 * refusal reason the client will read. The rules were validated when the configuration was read.
 */
import type { TopicAudience, TopicRule } from '../config/config.js'
import { holdsAnyRole } from './roles.js'

export type TopicAction = 'watch' | 'publish'

export interface TopicCaller {
  /** Undefined for an anonymous connection. */
  readonly userId: string | undefined
  readonly claims: Readonly<Record<string, unknown>>
}

/** `ask`: the rule (or the absence of one) leaves the decision to the authorizer service. */
export type TopicDecision = { readonly kind: 'allow' } | { readonly kind: 'refuse'; readonly reason: string } | { readonly kind: 'ask' }

const USER_ID = '{userId}'
const ALLOW: TopicDecision = Object.freeze({ kind: 'allow' })
const ASK: TopicDecision = Object.freeze({ kind: 'ask' })

interface CompiledRule {
  readonly rule: TopicRule
  readonly tokens: readonly string[]
  /** Position of the `{userId}` token, or -1. */
  readonly ownerAt: number
}

export class TopicRules {
  private readonly compiled: readonly CompiledRule[]

  /** `unmatched`: what a topic no rule matches gets; `ask` when the authorizer is on. */
  constructor(
    rules: readonly TopicRule[],
    private readonly unmatched: 'refuse' | 'ask',
  ) {
    this.compiled = rules.map((rule) => {
      const tokens = rule.pattern.split('.')
      return { rule, tokens, ownerAt: tokens.indexOf(USER_ID) }
    })
  }

  /** `topic` is a valid topic (validateTopic): tokens of [A-Za-z0-9_-] joined by dots. */
  decide(action: TopicAction, topic: string, caller: TopicCaller): TopicDecision {
    const tokens = topic.split('.')
    const match = this.compiled.find((compiled) => matches(compiled.tokens, tokens))
    if (!match) return this.unmatched === 'ask' ? ASK : { kind: 'refuse', reason: 'no topic rule covers it' }
    const owner = match.ownerAt >= 0 ? tokens[match.ownerAt] : undefined
    const audience = match.rule[action]
    if (audience.some((who) => admits(who, caller, owner))) return ALLOW
    if (audience.includes('authorizer')) return ASK
    const verb = action === 'watch' ? 'watch it' : 'publish to it'
    if (audience.includes('nobody')) return { kind: 'refuse', reason: `nobody may ${verb}` }
    return { kind: 'refuse', reason: `only ${audience.map((who) => describe(who, owner)).join(' or ')} may ${verb}` }
  }
}

/** NATS matching: `*` (and `{userId}`) one token, `>` one or more trailing tokens. */
export function matches(pattern: readonly string[], topic: readonly string[]): boolean {
  for (const [index, token] of pattern.entries()) {
    if (token === '>') return topic.length > index
    if (index >= topic.length) return false
    if (token !== '*' && token !== USER_ID && token !== topic[index]) return false
  }
  return pattern.length === topic.length
}

function admits(who: TopicAudience, caller: TopicCaller, owner: string | undefined): boolean {
  if (who === 'anyone') return true
  if (who === 'nobody' || who === 'authorizer') return false
  if (caller.userId === undefined) return false
  if (who === 'authenticated') return true
  if (who === 'owner') return owner !== undefined && caller.userId === owner
  return holdsAnyRole(caller.claims, who.roles)
}

function describe(who: TopicAudience, owner: string | undefined): string {
  if (who === 'authenticated') return 'authenticated users'
  if (who === 'owner') return `user ${owner}`
  if (typeof who === 'object') return `users with role ${who.roles.join(' or ')}`
  // 'anyone' admits everyone and 'nobody' stands alone; neither is described in a refusal.
  return who
}
