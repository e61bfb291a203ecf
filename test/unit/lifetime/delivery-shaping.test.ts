import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ImError, ImErrorCode } from '../../../src/errors.js'
import { readSendMessage } from '../../../src/hub/service-message.js'
import { DeliveryShaper, shapingProblem } from '../../../src/lifetime/delivery-shaping.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

/** Recipients 0..n-1 and, for each, the fake time at which it was handed the message. */
function recipients(n: number) {
  const ids = Array.from({ length: n }, (_, i) => i)
  const at = new Map<number, number>()
  const send = (id: number): void => {
    expect(at.has(id)).toBe(false)
    at.set(id, Date.now())
  }
  return { ids, at, send }
}

describe('DeliveryShaper.spread', () => {
  it('hands out slices evenly over the window, the first at once, each recipient once', () => {
    const shaper = new DeliveryShaper({ sliceIntervalMs: 20 })
    const { ids, at, send } = recipients(1000)
    const start = Date.now()
    expect(shaper.spread(ids, 2000, send, () => true)).toBe(1000)
    // 2000 ms / 20 ms = 100 slices of 10 recipients, at 0, 20, ..., 1980 ms.
    expect(at.size).toBe(10)
    vi.advanceTimersByTime(999)
    expect(at.size).toBe(500)
    vi.advanceTimersByTime(1000)
    expect(at.size).toBe(1000)
    const perSlice = new Map<number, number>()
    for (const time of at.values()) perSlice.set(time - start, (perSlice.get(time - start) ?? 0) + 1)
    expect([...perSlice.keys()]).toEqual(Array.from({ length: 100 }, (_, i) => i * 20))
    expect(new Set(perSlice.values())).toEqual(new Set([10]))
    expect(shaper.stats.pendingSpreads).toBe(0)
  })

  it('keeps one timer per spreading message, never one per recipient', () => {
    const shaper = new DeliveryShaper()
    const { ids, send } = recipients(5000)
    shaper.spread(ids, 2000, send, () => true)
    shaper.spread(ids.slice(0, 3), 2000, () => undefined, () => true)
    expect(vi.getTimerCount()).toBe(2)
    expect(shaper.stats.pendingSpreads).toBe(2)
  })

  it('uses one slice per recipient when there are fewer recipients than slices', () => {
    const shaper = new DeliveryShaper({ sliceIntervalMs: 20 })
    const { ids, at, send } = recipients(4)
    const start = Date.now()
    shaper.spread(ids, 2000, send, () => true)
    vi.runAllTimers()
    expect([...at.values()].map((time) => time - start)).toEqual([0, 500, 1000, 1500])
  })

  it('keeps to the window when timers fire late (slice times count from the start)', () => {
    const shaper = new DeliveryShaper({ sliceIntervalMs: 100 })
    const { ids, at, send } = recipients(10)
    const start = Date.now()
    shaper.spread(ids, 1000, send, () => true)
    // The event loop is blocked for 450 ms: slices 1 to 4 are overdue and go on the next ticks.
    vi.setSystemTime(start + 450)
    vi.advanceTimersByTime(100)
    vi.runAllTimers()
    expect(Math.max(...at.values()) - start).toBe(900)
  })

  it('skips a recipient that closed before its slice', () => {
    const shaper = new DeliveryShaper({ sliceIntervalMs: 20 })
    const { ids, at, send } = recipients(100)
    const closed = new Set<number>()
    shaper.spread(ids, 100, send, (id) => !closed.has(id))
    closed.add(99)
    closed.add(0) // already served: nothing to undo
    vi.runAllTimers()
    expect(at.size).toBe(99)
    expect(at.has(99)).toBe(false)
  })

  it('delivers at once when there is nothing to spread over', () => {
    const shaper = new DeliveryShaper()
    const { ids, at, send } = recipients(50)
    shaper.spread(ids, 0, send, () => true)
    expect(at.size).toBe(50)
    shaper.spread([], 2000, send, () => true)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('delivers at once and counts it once maxPendingSpreads are in flight', () => {
    const shaper = new DeliveryShaper({ maxPendingSpreads: 2 })
    for (let i = 0; i < 2; i++) shaper.spread(recipients(10).ids, 1000, () => undefined, () => true)
    const { ids, at, send } = recipients(10)
    shaper.spread(ids, 1000, send, () => true)
    expect(at.size).toBe(10)
    expect(shaper.stats).toMatchObject({ pendingSpreads: 2, spreadOverflows: 1 })
  })

  it('goes on with the slice when one recipient throws, and reports the error', () => {
    const onError = vi.fn()
    const shaper = new DeliveryShaper({ onError })
    const { ids, at, send } = recipients(3)
    const boom = new Error('socket gone')
    const sendOrThrow = (id: number): void => {
      if (id === 1) throw boom
      send(id)
    }
    shaper.spread(ids, 0, sendOrThrow, () => true)
    expect([...at.keys()]).toEqual([0, 2])
    expect(onError).toHaveBeenCalledWith(boom)
  })

  it('dispose() cancels what is still spreading', () => {
    const shaper = new DeliveryShaper({ sliceIntervalMs: 20 })
    const { ids, at, send } = recipients(100)
    shaper.spread(ids, 1000, send, () => true)
    shaper.dispose()
    vi.runAllTimers()
    expect(at.size).toBe(2)
    expect(shaper.stats.pendingSpreads).toBe(0)
  })
})

describe('DeliveryShaper.collapse', () => {
  it('delivers exactly the last message of a key once, at the end of the window', () => {
    const shaper = new DeliveryShaper()
    const delivered: string[] = []
    for (const [i, text] of ['v1', 'v2', 'v3', 'v4', 'v5'].entries()) {
      vi.advanceTimersByTime(i === 0 ? 0 : 100)
      shaper.collapse('orders', 1000, () => delivered.push(text))
    }
    expect(delivered).toEqual([])
    vi.advanceTimersByTime(599)
    expect(delivered).toEqual([])
    vi.advanceTimersByTime(1)
    expect(delivered).toEqual(['v5'])
    vi.runAllTimers()
    expect(delivered).toEqual(['v5'])
    expect(shaper.stats).toMatchObject({ openCollapseSlots: 0, collapsed: 4 })
  })

  it('opens a new window for a message after the window, and keeps keys apart', () => {
    const shaper = new DeliveryShaper()
    const delivered: string[] = []
    shaper.collapse('a', 500, () => delivered.push('a1'))
    shaper.collapse('b', 500, () => delivered.push('b1'))
    vi.advanceTimersByTime(500)
    shaper.collapse('a', 500, () => delivered.push('a2'))
    vi.advanceTimersByTime(500)
    expect(delivered).toEqual(['a1', 'b1', 'a2'])
  })

  it('does not extend the window for later messages, so a steady stream still gets through', () => {
    const shaper = new DeliveryShaper()
    const delivered: number[] = []
    for (let i = 0; i < 30; i++) {
      shaper.collapse('ticker', 1000, () => delivered.push(i))
      vi.advanceTimersByTime(100)
    }
    expect(delivered).toEqual([9, 19, 29])
  })

  it('delivers at once and counts it once maxCollapseSlots keys are open', () => {
    const shaper = new DeliveryShaper({ maxCollapseSlots: 2 })
    const delivered: string[] = []
    shaper.collapse('a', 1000, () => delivered.push('a'))
    shaper.collapse('b', 1000, () => delivered.push('b'))
    shaper.collapse('c', 1000, () => delivered.push('c'))
    shaper.collapse('a', 1000, () => delivered.push('a2')) // an open key still collapses
    expect(delivered).toEqual(['c'])
    expect(shaper.stats).toMatchObject({ openCollapseSlots: 2, collapseOverflows: 1, collapsed: 1 })
    vi.runAllTimers()
    expect(delivered).toEqual(['c', 'a2', 'b'])
  })

  it('dispose() drops what waits in a window', () => {
    const shaper = new DeliveryShaper()
    const deliver = vi.fn()
    shaper.collapse('a', 1000, deliver)
    shaper.dispose()
    vi.runAllTimers()
    expect(deliver).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('shaping fields', () => {
  it.each([
    [{}, undefined],
    [{ spreadMs: 0 }, undefined],
    [{ spreadMs: 60_000, collapseKey: 'k'.repeat(256), collapseWindowMs: 60_000 }, undefined],
    [{ spreadMs: -1 }, '"spreadMs" must be an integer from 0 to 60000'],
    [{ spreadMs: 60_001 }, '"spreadMs" must be an integer from 0 to 60000'],
    [{ spreadMs: 1.5 }, '"spreadMs" must be an integer from 0 to 60000'],
    [{ spreadMs: '2000' }, '"spreadMs" must be an integer from 0 to 60000'],
    [{ collapseKey: '' }, '"collapseKey" must be a non-empty string of at most 256 characters'],
    [{ collapseKey: 'k'.repeat(257) }, '"collapseKey" must be a non-empty string of at most 256 characters'],
    [{ collapseKey: 7 }, '"collapseKey" must be a non-empty string of at most 256 characters'],
    [{ collapseKey: 'k', collapseWindowMs: 0 }, '"collapseWindowMs" must be an integer from 1 to 60000'],
    [{ collapseKey: 'k', collapseWindowMs: 60_001 }, '"collapseWindowMs" must be an integer from 1 to 60000'],
    [{ collapseWindowMs: 500 }, '"collapseWindowMs" needs a "collapseKey"'],
    [{ durableSequence: 7 }, undefined],
    [{ durableSequence: 0 }, '"durableSequence" must be a positive integer'],
    [{ durableSequence: '7' }, '"durableSequence" must be a positive integer'],
    [{ durableSequence: 7, spreadMs: 10 }, 'a durable message is delivered at once: it takes no "spreadMs", "collapseKey" or "collapseWindowMs"'],
  ])('shapingProblem(%j) is %j', (shaping, problem) => {
    expect(shapingProblem(shaping)).toBe(problem)
  })

  it('readSendMessage reads them ignoring case, and leaves delivery out when none is given', () => {
    expect(readSendMessage({ method: 'm', SpreadMs: 2000, COLLAPSEKEY: 'orders', collapsewindowms: 500 }).delivery).toEqual({
      spreadMs: 2000,
      collapseKey: 'orders',
      collapseWindowMs: 500,
    })
    expect(readSendMessage({ method: 'm', spreadMs: null })).not.toHaveProperty('delivery')
  })

  it.each([
    [{ method: 'm', spreadMs: 60_001 }, '"spreadMs" must be an integer from 0 to 60000'],
    [{ method: 'm', CollapseKey: '' }, '"collapseKey" must be a non-empty string of at most 256 characters'],
    [{ method: 'm', collapseWindowMs: 100 }, '"collapseWindowMs" needs a "collapseKey"'],
  ])('readSendMessage refuses %j as IM_INVALID_PAYLOAD: %s', (payload, reason) => {
    const error = (() => {
      try {
        readSendMessage(payload)
      } catch (caught) {
        return caught
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(ImError)
    expect(error).toMatchObject({ code: ImErrorCode.InvalidPayload, message: reason })
  })
})
