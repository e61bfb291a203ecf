/**
 * The topic access part of the configuration: the rules (im.config.ts `topics.rules` or
 * IM_TOPIC_RULES as JSON), checked here once with messages that name the rule and what is wrong
 * with it; the default table when no rules are set; and the authorizer service's settings.
 */
import type { TopicAudience, TopicRule, TopicsConfig } from './config.js'
import type { EarlierSettings, SettingKind } from './setting-kinds.js'
import { invalid, show, type SettingSource } from './config-values.js'

const USER_ID = '{userId}'
const TOKEN = /^[A-Za-z0-9_-]+$/
const WORDS = ['anyone', 'authenticated', 'owner', 'nobody', 'authorizer'] as const
const RULE_KEYS = new Set(['pattern', 'watch', 'publish'])
const EXAMPLE = `{ pattern: 'user.{userId}.>', watch: 'owner', publish: 'authenticated' }`

/**
 * With a JWT key and no rules: public topics for anyone to watch, each user's own `user.<id>.>`
 * topics for that user, nothing else to watch; publishing for signed-in users. The catch-all row
 * is left out when the authorizer is on, which then decides the topics the first rows do not cover.
 */
export const SECURE_DEFAULT_RULES: readonly TopicRule[] = Object.freeze([
  { pattern: 'public.>', watch: ['anyone'], publish: ['authenticated'] },
  { pattern: 'user.{userId}.>', watch: ['owner'], publish: ['authenticated'] },
  { pattern: '>', watch: ['nobody'], publish: ['authenticated'] },
])

/** Without JWT every connection is anonymous: local development, open as it always was. */
export const OPEN_DEFAULT_RULES: readonly TopicRule[] = Object.freeze([{ pattern: '>', watch: ['anyone'], publish: ['anyone'] }])

/** The rules from im.config.ts (a list) or IM_TOPIC_RULES (JSON), read after `topics.authorizer.enabled`. */
export function topicRules(): SettingKind<readonly TopicRule[]> {
  return {
    values: 'list of rules (JSON in the variable)',
    read: (source, earlier) => readTopicRules(source, earlier.valueOf('topics.authorizer.enabled') === true),
  }
}

/** Without configured rules: the secure table with a JWT key, the open one without; the catch-all is the authorizer's when it is on. */
export function defaultTopicRules(earlier: EarlierSettings): readonly TopicRule[] {
  const jwtConfigured = ['jwt.secret', 'jwt.publicKey', 'jwt.jwksUrl'].some((key) => earlier.valueOf(key) !== undefined)
  const table = jwtConfigured ? SECURE_DEFAULT_RULES : OPEN_DEFAULT_RULES
  return earlier.valueOf('topics.authorizer.enabled') === true ? table.filter((rule) => rule.pattern !== '>') : table
}

/** Where the rules in effect come from, for the start-up banner. */
export function topicRulesSource(configured: boolean, jwtConfigured: boolean): TopicsConfig['source'] {
  if (configured) return 'configured'
  return jwtConfigured ? 'secure-default' : 'open-default'
}

/** The rules of `source` (a list from the file, JSON text from the environment), validated. */
export function readTopicRules(source: SettingSource, authorizerEnabled: boolean): readonly TopicRule[] {
  let value = source.value
  if (source.fromEnv) {
    try {
      value = JSON.parse(String(value))
    } catch (error) {
      throw invalid(`${source.label} must be a JSON array of rules like [{"pattern":"public.>","watch":"anyone","publish":"authenticated"}]: ${(error as Error).message}`)
    }
  }
  if (!Array.isArray(value)) throw invalid(`${source.label} must be a list of rules like ${EXAMPLE}, got ${show(value)}`)
  const rules = value.map((entry: unknown, index) => readRule(entry, `${source.label} rule ${index + 1}`, authorizerEnabled))
  rules.forEach((rule, index) => {
    const earlier = rules.findIndex((other, j) => j < index && covers(tokensOf(other.pattern), tokensOf(rule.pattern)))
    if (earlier >= 0) {
      throw invalid(
        `${source.label} rule ${index + 1} (${show(rule.pattern)}) can never match: rule ${earlier + 1} (${show(rules[earlier]!.pattern)}) comes first and matches every topic it does`,
      )
    }
  })
  return Object.freeze(rules)
}

function readRule(entry: unknown, label: string, authorizerEnabled: boolean): TopicRule {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalid(`${label} must be an object like ${EXAMPLE}, got ${show(entry)}`)
  const fields = entry as Record<string, unknown>
  const unknown = Object.keys(fields).find((key) => !RULE_KEYS.has(key))
  if (unknown !== undefined) throw invalid(`${label} has an unknown key ${show(unknown)}; a rule has pattern, watch and publish`)
  const pattern = fields.pattern
  if (typeof pattern !== 'string') throw invalid(`${label} needs a pattern (a topic with *, > or {userId}, like 'user.{userId}.>'), got ${show(pattern)}`)
  const where = `${label} (${show(pattern)})`
  const problem = patternProblem(pattern)
  if (problem !== undefined) throw invalid(`${where}: ${problem}`)
  const hasOwner = tokensOf(pattern).includes(USER_ID)
  const read = (action: 'watch' | 'publish'): readonly TopicAudience[] => {
    const audience = readAudience(fields[action], `${where} ${action}`)
    if (audience.includes('owner') && !hasOwner) throw invalid(`${where} ${action} is 'owner' but the pattern has no {userId} token to name the owner`)
    if (audience.includes('authorizer') && !authorizerEnabled) {
      throw invalid(`${where} ${action} is 'authorizer' but the authorizer is off: set topics.authorizer.enabled (IM_TOPIC_AUTHORIZER)`)
    }
    return audience
  }
  return Object.freeze({ pattern, watch: read('watch'), publish: read('publish') })
}

function readAudience(value: unknown, label: string): readonly TopicAudience[] {
  const expected = `'anyone', 'authenticated', 'owner', 'nobody', 'authorizer', { roles: ['...'] } or a list of them`
  if (value === undefined) throw invalid(`${label} is missing: say who may ${label.endsWith('watch') ? 'watch' : 'publish'} (${expected})`)
  const list = Array.isArray(value) ? value : [value]
  if (list.length === 0) throw invalid(`${label} is an empty list: write 'nobody' to allow no one`)
  const audience = list.map((item: unknown) => readAudienceEntry(item, label, expected))
  const alone = audience.find((item): item is 'anyone' | 'nobody' => item === 'anyone' || item === 'nobody')
  if (alone !== undefined && audience.length > 1) throw invalid(`${label}: '${alone}' cannot be combined with other values`)
  return Object.freeze(audience)
}

function readAudienceEntry(item: unknown, label: string, expected: string): TopicAudience {
  if (typeof item === 'string') {
    if ((WORDS as readonly string[]).includes(item)) return item as TopicAudience
    throw invalid(`${label} has unknown value ${show(item)}; use ${expected}`)
  }
  if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
    const keys = Object.keys(item)
    const roles = (item as { roles?: unknown }).roles
    if (keys.length !== 1 || keys[0] !== 'roles') throw invalid(`${label} has unknown value ${show(item)}; an object must be { roles: ['admin', ...] }`)
    if (!Array.isArray(roles) || roles.length === 0 || !roles.every((role) => typeof role === 'string' && role.trim() !== '')) {
      throw invalid(`${label} roles must be a non-empty list of role names, got ${show(roles)}`)
    }
    return Object.freeze({ roles: Object.freeze([...roles]) })
  }
  throw invalid(`${label} has unknown value ${show(item)}; use ${expected}`)
}

/** Why `pattern` is not a topic pattern, or undefined when it is one. */
export function patternProblem(pattern: string): string | undefined {
  if (pattern === '') return 'the pattern is empty'
  const tokens = tokensOf(pattern)
  let owners = 0
  for (const [index, token] of tokens.entries()) {
    if (token === '') return 'the pattern has an empty token (a leading, trailing or doubled dot)'
    if (token === '>') {
      if (index !== tokens.length - 1) return `'>' must be the last token`
      continue
    }
    if (token === '*') continue
    if (token === USER_ID) {
      if (++owners > 1) return '{userId} may appear only once'
      continue
    }
    const placeholder = /\{[^}]*\}?/.exec(token)?.[0]
    if (placeholder === USER_ID) return `${show(token)} has {userId} inside a token; it must be a whole token, like user.{userId}.>`
    if (placeholder !== undefined) return `unknown placeholder ${placeholder}; the only placeholder is {userId}`
    if (token.includes('*') || token.includes('>')) return `${show(token)} mixes a wildcard with text; '*' and '>' must be whole tokens`
    if (!TOKEN.test(token)) return `${show(token)} may contain only letters, digits, '_' and '-' (or be *, > or {userId})`
  }
  return undefined
}

function tokensOf(pattern: string): string[] {
  return pattern.split('.')
}

/** True when every topic `inner` matches is matched by `outer` too. */
function covers(outer: readonly string[], inner: readonly string[]): boolean {
  for (const [index, token] of outer.entries()) {
    const other = inner[index]
    if (token === '>') return other !== undefined
    if (other === undefined || other === '>') return false
    const anyToken = token === '*' || token === USER_ID
    if (!anyToken && token !== other) return false
  }
  return outer.length === inner.length
}
