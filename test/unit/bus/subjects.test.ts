import { describe, expect, it } from 'vitest'
import {
  MAX_TOPIC_LENGTH,
  TOPIC_PATTERN,
  hubSubjects,
  isValidTopic,
  subjectMatches,
  subjectsOverlap,
  validateQueueGroup,
  validateSubject,
  validateTopic,
} from '../../../src/bus/subjects.js'

describe('topic validation', () => {
  it.each(['orders', 'orders.created', 'a-b_c.D9', 'x'.repeat(MAX_TOPIC_LENGTH), '0.1.2'])('accepts %j', (topic) => {
    expect(isValidTopic(topic)).toBe(true)
    expect(validateTopic(topic)).toBeUndefined()
    expect(TOPIC_PATTERN.test(topic)).toBe(true)
  })

  it.each([
    ['', /empty/],
    ['.', /empty tokens \(token 1/],
    ['a..b', /empty tokens \(token 2/],
    ['a.', /empty tokens \(token 2/],
    ['.a', /empty tokens \(token 1/],
    ['*', /wildcards/],
    ['a.>', /wildcards/],
    ['a.*.b', /wildcards/],
    ['a b', /only letters/],
    ['$SYS.x', /'\$'/],
    ['a$b', /'\$'/],
    ['x'.repeat(MAX_TOPIC_LENGTH + 1), /at most 128 characters \(got 129\)/],
    ['a\r\nb', /only letters/],
    ['a\u0000b', /only letters/],
    ['ünïcode', /only letters/],
  ])('rejects %j with a precise reason', (topic, reason) => {
    expect(isValidTopic(topic)).toBe(false)
    expect(validateTopic(topic)).toMatch(reason)
  })

  it('rejects a value that is not a string', () => {
    expect(validateTopic(42)).toBe('topic must be a string')
  })
})

describe('subject validation', () => {
  it.each([
    ['a.b', false, undefined],
    ['$JS.API.INFO', false, undefined],
    ['a.*', true, undefined],
    ['a.>', true, undefined],
    ['>', true, undefined],
    ['a.*', false, /wildcards/],
    ['a.>.b', true, /last token/],
    ['a*', true, /whole tokens/],
    ['a..b', true, /empty tokens/],
    ['', true, /empty/],
    ['a b', true, /whitespace/],
    ['a\r\nPUB x', false, /whitespace/],
  ])('%j (wildcards %s)', (subject, wildcards, reason) => {
    const result = validateSubject(subject, { wildcards })
    if (reason === undefined) expect(result).toBeUndefined()
    else expect(result).toMatch(reason)
  })

  it('checks queue group names', () => {
    expect(validateQueueGroup(undefined)).toBeUndefined()
    expect(validateQueueGroup('workers')).toBeUndefined()
    for (const bad of ['', 'a b', 'a*', 'a\n']) expect(validateQueueGroup(bad)).toBeDefined()
  })
})

describe('subjectMatches', () => {
  it.each([
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.b', 'a.b.c', false],
    ['a.*', 'a.b', true],
    ['a.*', 'a', false],
    ['a.*', 'a.b.c', false],
    ['*.b', 'a.b', true],
    ['a.*.c', 'a.x.c', true],
    ['a.*.c', 'a.x.d', false],
    ['a.>', 'a.b', true],
    ['a.>', 'a.b.c.d', true],
    ['a.>', 'a', false],
    ['>', 'a', true],
    ['>', 'a.b', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*.>', 'a.b', true],
    ['*.>', 'a', false],
  ])('%j matches %j: %s', (pattern, subject, expected) => {
    expect(subjectMatches(pattern, subject)).toBe(expected)
  })
})

describe('hubSubjects', () => {
  it('names the standard subjects of a hub', () => {
    const subjects = hubSubjects('default')
    expect(subjects.receive('orders.created')).toBe('im.default.receive.orders.created')
    expect(subjects.connected).toBe('im.default.connected')
    expect(subjects.disconnected).toBe('im.default.disconnected')
    expect(subjects.deliver).toBe('im.default.deliver')
  })

  it.each(['', 'a.b', 'a*', '>', 'a b', '$SYS'])('refuses the hub name %j', (name) => {
    expect(() => hubSubjects(name)).toThrow(expect.objectContaining({ code: 'IM_HUB_DEFINITION_INVALID', message: expect.stringMatching(/^hub name must be one token/) }))
  })

  it('refuses an invalid topic in receive()', () => {
    expect(() => hubSubjects('default').receive('a.>')).toThrow(expect.objectContaining({ code: 'IM_INVALID_TOPIC', message: expect.stringMatching(/wildcards/) }))
  })
})

describe('subjectsOverlap', () => {
  it.each([
    ['im.chat.deliver', 'im.chat.deliver', true],
    ['im.chat.*', 'im.chat.deliver', true],
    ['im.chat.deliver', 'im.chat.>', true],
    ['im.*.deliver', 'im.chat.*', true],
    ['im.>', 'im.chat.node.a', true],
    ['im.chat.send.>', 'im.chat.deliver', false],
    ['im.chat', 'im.chat.deliver', false],
    ['im.chat.>', 'im.chat', false],
    ['im.chat.*', 'im.chat.node.a', false],
  ])('%s and %s: %s', (a, b, expected) => {
    expect(subjectsOverlap(a, b)).toBe(expected)
    expect(subjectsOverlap(b, a)).toBe(expected)
  })
})
