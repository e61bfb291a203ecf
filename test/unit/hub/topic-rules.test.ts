import { describe, expect, it } from 'vitest'
import type { TopicRule } from '../../../src/config/config.js'
import { SECURE_DEFAULT_RULES } from '../../../src/config/resolve-topics-config.js'
import { matches, TopicRules } from '../../../src/hub/topic-rules.js'
import type { TopicAction, TopicCaller, TopicDecision } from '../../../src/hub/topic-rules.js'

const anonymous: TopicCaller = { userId: undefined, claims: {} }
const alice: TopicCaller = { userId: 'alice', claims: { sub: 'alice' } }
const bob: TopicCaller = { userId: 'bob', claims: { sub: 'bob' } }
const admin: TopicCaller = { userId: 'ann', claims: { roles: ['admin'] } }
const dotnetAdmin: TopicCaller = { userId: 'dan', claims: { 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role': 'admin' } }
const allow: TopicDecision = { kind: 'allow' }
const ask: TopicDecision = { kind: 'ask' }
const refuse = (reason: string): TopicDecision => ({ kind: 'refuse', reason })

describe('matches (NATS wildcards, {userId} as one token)', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.b', 'a.b.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'anything.at.all', true],
    ['*.b', 'x.b', true],
    ['user.{userId}.>', 'user.alice.inbox', true],
    ['user.{userId}.>', 'user.alice', false],
    ['user.{userId}', 'user.alice', true],
  ])('%s against %s: %s', (pattern, topic, expected) => {
    expect(matches(pattern.split('.'), topic.split('.'))).toBe(expected)
  })
})

describe('the secure default table', () => {
  const rules = new TopicRules(SECURE_DEFAULT_RULES, 'refuse')
  const cases: ReadonlyArray<[TopicAction, string, TopicCaller, TopicDecision]> = [
    ['watch', 'public.news', anonymous, allow],
    ['watch', 'public.news.eu', bob, allow],
    ['watch', 'user.alice.inbox', alice, allow],
    ['watch', 'user.alice.inbox', bob, refuse('only user alice may watch it')],
    ['watch', 'user.alice.inbox', anonymous, refuse('only user alice may watch it')],
    ['watch', 'user.alice', alice, refuse('nobody may watch it')],
    ['watch', 'orders.created', alice, refuse('nobody may watch it')],
    ['watch', 'public', alice, refuse('nobody may watch it')],
    ['publish', 'orders.created', alice, allow],
    ['publish', 'user.bob.inbox', alice, allow],
    ['publish', 'public.chat', anonymous, refuse('only authenticated users may publish to it')],
    ['publish', 'orders.created', anonymous, refuse('only authenticated users may publish to it')],
  ]
  it.each(cases)('%s %s by %j', (action, topic, caller, expected) => {
    expect(rules.decide(action, topic, caller)).toEqual(expected)
  })
})

describe('configured rules', () => {
  const table: TopicRule[] = [
    { pattern: 'user.{userId}.>', watch: ['owner', { roles: ['admin'] }], publish: ['owner'] },
    { pattern: 'ops.*', watch: [{ roles: ['admin', 'ops'] }], publish: ['nobody'] },
    { pattern: 'orders.>', watch: ['authenticated', 'authorizer'], publish: ['authorizer'] },
    { pattern: 'open.*', watch: ['anyone'], publish: ['anyone'] },
  ]
  const refusing = new TopicRules(table, 'refuse')
  const asking = new TopicRules(table, 'ask')
  const cases: ReadonlyArray<[TopicAction, string, TopicCaller, TopicDecision]> = [
    ['watch', 'user.alice.inbox', admin, allow],
    ['watch', 'user.alice.inbox', dotnetAdmin, allow],
    ['watch', 'user.alice.inbox', bob, refuse('only user alice or users with role admin may watch it')],
    ['publish', 'user.alice.inbox', admin, refuse('only user alice may publish to it')],
    ['watch', 'ops.deploys', { userId: 'o', claims: { role: 'ops' } }, allow],
    ['watch', 'ops.deploys', alice, refuse('only users with role admin or ops may watch it')],
    ['watch', 'ops.deploys', { userId: undefined, claims: { roles: ['admin'] } }, refuse('only users with role admin or ops may watch it')],
    ['publish', 'ops.deploys', admin, refuse('nobody may publish to it')],
    ['watch', 'orders.1', alice, allow],
    ['watch', 'orders.1', anonymous, ask],
    ['publish', 'orders.1', alice, ask],
    ['watch', 'open.x', anonymous, allow],
    ['publish', 'open.x', anonymous, allow],
    ['watch', 'open.x.y', alice, refuse('no topic rule covers it')],
  ]
  it.each(cases)('%s %s by %j', (action, topic, caller, expected) => {
    expect(refusing.decide(action, topic, caller)).toEqual(expected)
  })

  it('leaves topics no rule matches to the authorizer when it is on', () => {
    expect(asking.decide('watch', 'open.x.y', alice)).toEqual(ask)
    expect(asking.decide('watch', 'ops.deploys', alice)).toEqual(refuse('only users with role admin or ops may watch it'))
  })

  it('refuses everything with no rules', () => {
    expect(new TopicRules([], 'refuse').decide('publish', 'a', alice)).toEqual(refuse('no topic rule covers it'))
  })
})
