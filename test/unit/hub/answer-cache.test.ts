import { describe, expect, it } from 'vitest'
import { AnswerCache } from '../../../src/hub/answer-cache.js'

function clock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1000
  return { now: () => time, advance: (ms) => void (time += ms) }
}

const keepAll = (): boolean => true

describe('AnswerCache', () => {
  it('reuses an answer until its time to live is over', async () => {
    const time = clock()
    const cache = new AnswerCache<string>({ ttlMs: 100, maxEntries: 10, now: time.now })
    await cache.ask('k', async () => 'yes', keepAll)
    time.advance(99)
    expect(cache.get('k')).toBe('yes')
    time.advance(1)
    expect(cache.get('k')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('keeps at most maxEntries, dropping the oldest first', async () => {
    const cache = new AnswerCache<number>({ ttlMs: 60_000, maxEntries: 3 })
    for (let i = 0; i < 5; i++) await cache.ask(`k${i}`, async () => i, keepAll)
    expect(cache.size).toBe(3)
    expect([0, 1, 2, 3, 4].map((i) => cache.get(`k${i}`))).toEqual([undefined, undefined, 2, 3, 4])
  })

  it('asks once for callers asking the same thing at the same time', async () => {
    const cache = new AnswerCache<string>({ ttlMs: 0, maxEntries: 10 })
    let asked = 0
    let answer: (value: string) => void = () => {}
    const ask = (): Promise<string> => {
      asked++
      return new Promise((resolve) => (answer = resolve))
    }
    const both = Promise.all([cache.ask('k', ask, keepAll), cache.ask('k', ask, keepAll)])
    answer('shared')
    expect(await both).toEqual(['shared', 'shared'])
    expect(asked).toBe(1)
    // ttlMs 0 keeps nothing once the question is answered.
    await cache.ask('k', async () => 'again', keepAll)
    expect(asked).toBe(1)
    expect(cache.get('k')).toBeUndefined()
  })

  it('does not keep what `keep` refuses, nor a failed question', async () => {
    const cache = new AnswerCache<string>({ ttlMs: 60_000, maxEntries: 10 })
    await cache.ask('no-answer', async () => 'timeout', (value) => value !== 'timeout')
    expect(cache.get('no-answer')).toBeUndefined()
    await expect(cache.ask('broken', () => Promise.reject(new Error('boom')), keepAll)).rejects.toThrow('boom')
    expect(cache.get('broken')).toBeUndefined()
    expect(await cache.ask('broken', async () => 'fine', keepAll)).toBe('fine')
  })
})
