import { describe, expect, it } from 'vitest'
import { DedupWindow } from '../../../src/bus/dedup-window.js'
import { subjectCovers } from '../../../src/bus/subjects.js'

describe('DedupWindow', () => {
  const clock = (): { now: () => number; advance: (ms: number) => void } => {
    let t = 1_000
    return { now: () => t, advance: (ms) => void (t += ms) }
  }

  it('reports a key seen inside the window as a repeat, and a new key as new', () => {
    const window = new DedupWindow({ windowMs: 1000, maxKeys: 10, now: clock().now })
    expect(window.seenBefore('seq:1')).toBe(false)
    expect(window.seenBefore('seq:1')).toBe(true)
    expect(window.seenBefore('seq:2')).toBe(false)
  })

  it('treats a message as a repeat when any of its keys was seen (a redelivery, or a retry under a new sequence)', () => {
    const window = new DedupWindow({ windowMs: 1000, maxKeys: 10, now: clock().now })
    expect(window.seenBefore('seq:1', 'id:cap-7')).toBe(false)
    expect(window.seenBefore('seq:1', 'id:cap-7')).toBe(true) // redelivered: same sequence
    expect(window.seenBefore('seq:2', 'id:cap-7')).toBe(true) // the publisher's retry, stored again
    expect(window.seenBefore('seq:3', undefined)).toBe(false) // no id: the sequence decides
  })

  it('forgets keys once the window has passed', () => {
    const time = clock()
    const window = new DedupWindow({ windowMs: 1000, maxKeys: 10, now: time.now })
    window.seenBefore('a')
    time.advance(999)
    expect(window.seenBefore('a')).toBe(true)
    time.advance(2)
    expect(window.seenBefore('a')).toBe(false)
  })

  it('keeps at most maxKeys, forgetting the oldest first', () => {
    const window = new DedupWindow({ windowMs: 60_000, maxKeys: 3, now: clock().now })
    for (const key of ['a', 'b', 'c', 'd']) window.seenBefore(key)
    expect(window.size).toBe(3)
    expect(window.seenBefore('d')).toBe(true)
    expect(window.seenBefore('a')).toBe(false)
  })

  it('stays bounded under a long stream of distinct keys', () => {
    const time = clock()
    const window = new DedupWindow({ windowMs: 100, maxKeys: 1000, now: time.now })
    for (let i = 0; i < 50_000; i++) {
      window.seenBefore(`seq:${i}`)
      time.advance(1)
    }
    expect(window.size).toBeLessThanOrEqual(101)
  })
})

describe('subjectCovers', () => {
  it.each([
    ['im.default.send', 'im.default.send', true],
    ['im.default.send.>', 'im.default.send.user', true],
    ['im.default.send.>', 'im.default.send.*', true],
    ['im.default.send.>', 'im.default.send.>', true],
    ['im.default.send.*', 'im.default.send.user', true],
    ['im.default.>', 'im.default.send.user', true],
    ['im.default.send.>', 'im.default.send', false],
    ['im.default.send.*', 'im.default.send.>', false],
    ['im.default.send.*', 'im.default.send.user.x', false],
    ['im.default.send.user', 'im.default.send.*', false],
    ['im.default.groups.>', 'im.default.send.user', false],
  ])('%s covers %s: %s', (outer, inner, expected) => {
    expect(subjectCovers(outer, inner)).toBe(expected)
  })
})
