import { afterEach, describe, expect, it } from 'vitest'
import type { Bus, BusHandler, BusSubscription } from '../../../src/bus/bus.js'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { ImErrorCode } from '../../../src/errors.js'
import { WatchFanout } from '../../../src/lifetime/watch-fanout.js'

/** The embedded bus, counting the subscriptions that are live on it. */
class CountingBus extends EmbeddedBus {
  live = 0
  subscribed = 0

  override subscribe(subject: string, handler: BusHandler, options?: { queue?: string }): BusSubscription {
    const subscription = super.subscribe(subject, handler, options)
    this.live++
    this.subscribed++
    let open = true
    return {
      subject,
      unsubscribe: () => {
        if (open) this.live--
        open = false
        subscription.unsubscribe()
      },
    }
  }
}

const encoder = new TextEncoder()
let bus: CountingBus

afterEach(async () => {
  await bus?.close()
})

function setup(maxWatchedSubjects = 100): WatchFanout {
  bus = new CountingBus()
  return new WatchFanout({ bus, maxWatchedSubjects })
}

async function publish(target: Bus, subject: string, payload: unknown): Promise<void> {
  await target.publish(subject, encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload)))
  // The embedded bus delivers on the next turn of the event loop.
  await new Promise((resolve) => setImmediate(resolve))
}

function recorder(): { items: unknown[]; deliver: (payload: unknown) => void } {
  const items: unknown[] = []
  return { items, deliver: (payload) => items.push(payload) }
}

describe('WatchFanout', () => {
  it('serves every watcher of a subject from one bus subscription, with one parsed payload', async () => {
    const fanout = setup()
    const watchers = Array.from({ length: 50 }, () => recorder())
    for (const watcher of watchers) fanout.add('im.default.watch.prices', watcher)
    expect(bus.live).toBe(1)
    expect(fanout.stats).toEqual({ subjects: 1, watchers: 50, payloadsNotJson: 0 })
    await publish(bus, 'im.default.watch.prices', { price: 1.5 })
    const first = watchers[0]!.items[0]
    expect(first).toEqual({ price: 1.5 })
    // The same object for all: parsed once, not once per watcher.
    for (const watcher of watchers) {
      expect(watcher.items).toHaveLength(1)
      expect(watcher.items[0]).toBe(first)
    }
  })

  it('drops the subscription when the last watcher leaves, and subscribes again for a new one', async () => {
    const fanout = setup()
    const a = recorder()
    const b = recorder()
    const removeA = fanout.add('im.default.watch.x', a)
    const removeB = fanout.add('im.default.watch.x', b)
    removeA()
    removeA()
    expect(fanout.stats).toMatchObject({ subjects: 1, watchers: 1 })
    expect(bus.live).toBe(1)
    removeB()
    expect(fanout.stats).toMatchObject({ subjects: 0, watchers: 0 })
    expect(bus.live).toBe(0)
    await publish(bus, 'im.default.watch.x', { n: 1 })
    expect([a.items, b.items]).toEqual([[], []])

    const c = recorder()
    const removeC = fanout.add('im.default.watch.x', c)
    expect(bus.live).toBe(1)
    await publish(bus, 'im.default.watch.x', { n: 2 })
    expect(c.items).toEqual([{ n: 2 }])
    removeC()
    expect(bus.live).toBe(0)
    expect(bus.subscribed).toBe(2)
  })

  it('keeps one subscription per distinct subject and delivers each subject to its own watchers', async () => {
    const fanout = setup()
    const eur = recorder()
    const usd = recorder()
    fanout.add('im.default.watch.eur', eur)
    fanout.add('im.default.watch.usd', usd)
    expect(bus.live).toBe(2)
    await publish(bus, 'im.default.watch.eur', 1)
    await publish(bus, 'im.default.watch.usd', 2)
    expect([eur.items, usd.items]).toEqual([[1], [2]])
  })

  it('skips and counts a payload that is not JSON, and delivers the next one', async () => {
    const fanout = setup()
    const watcher = recorder()
    fanout.add('im.default.watch.x', watcher)
    await publish(bus, 'im.default.watch.x', '{not json')
    await publish(bus, 'im.default.watch.x', { ok: true })
    expect(watcher.items).toEqual([{ ok: true }])
    expect(fanout.stats.payloadsNotJson).toBe(1)
  })

  it('refuses a new subject past the node bound, still adds watchers to watched ones, and frees the bound', () => {
    const fanout = setup(2)
    const removeA = fanout.add('im.default.watch.a', recorder())
    fanout.add('im.default.watch.b', recorder())
    expect(() => fanout.add('im.default.watch.c', recorder())).toThrow(
      expect.objectContaining({ code: ImErrorCode.LimitExceeded, message: 'Too many subjects are watched on this node: at most 2.' }),
    )
    expect(bus.live).toBe(2)
    fanout.add('im.default.watch.a', recorder())
    removeA()
    expect(() => fanout.add('im.default.watch.c', recorder())).toThrow('at most 2')
    fanout.add('im.default.watch.b', recorder())
    expect(fanout.stats).toMatchObject({ subjects: 2, watchers: 3 })
  })

  it('lets a watcher remove itself while a payload is fanned out, and isolates one that throws', async () => {
    const fanout = setup()
    const steady = recorder()
    let removeQuitter = (): void => {}
    const quitter = recorder()
    fanout.add('im.default.watch.x', {
      deliver: () => {
        throw new Error('broken watcher')
      },
    })
    removeQuitter = fanout.add('im.default.watch.x', {
      deliver: (payload) => {
        quitter.deliver(payload)
        removeQuitter()
      },
    })
    fanout.add('im.default.watch.x', steady)
    await publish(bus, 'im.default.watch.x', 1)
    await publish(bus, 'im.default.watch.x', 2)
    expect(quitter.items).toEqual([1])
    expect(steady.items).toEqual([1, 2])
    expect(fanout.stats.watchers).toBe(2)
  })

  it('adds nothing when the bus cannot subscribe', async () => {
    const fanout = setup()
    await bus.close()
    expect(() => fanout.add('im.default.watch.x', recorder())).toThrow(expect.objectContaining({ code: ImErrorCode.BusUnavailable }))
    expect(fanout.stats).toMatchObject({ subjects: 0, watchers: 0 })
  })
})
