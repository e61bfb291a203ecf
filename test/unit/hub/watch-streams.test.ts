import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { HubException, ImErrorCode } from '../../../src/errors.js'
import { WatchStreams } from '../../../src/hub/watch-streams.js'
import type { WatchSlots } from '../../../src/hub/watch-streams.js'
import { WatchFanout } from '../../../src/lifetime/watch-fanout.js'
import { Metrics } from '../../../src/metrics.js'

const encoder = new TextEncoder()
let bus: EmbeddedBus

afterEach(async () => {
  await bus?.close()
})

function setup(options: { maxWatchesPerConnection?: number; bufferSize?: number; maxWatchedSubjects?: number } = {}) {
  bus = new EmbeddedBus()
  const fanout = new WatchFanout({ bus, maxWatchedSubjects: options.maxWatchedSubjects ?? 100 })
  const metrics = new Metrics()
  const watches = new WatchStreams({ fanout, metrics, maxWatchesPerConnection: options.maxWatchesPerConnection ?? 2, bufferSize: options.bufferSize ?? 100 })
  return { fanout, metrics, watches }
}

async function publish(subject: string, payload: unknown): Promise<void> {
  await bus.publish(subject, encoder.encode(JSON.stringify(payload)))
  await new Promise((resolve) => setImmediate(resolve))
}

/** Reads a watch in the background: what it yielded and how it ended. */
function read(watch: AsyncIterable<unknown>, stopAfter = Infinity) {
  const state: { items: unknown[]; done: boolean; error?: Error } = { items: [], done: false }
  const finished = (async () => {
    try {
      for await (const item of watch) {
        state.items.push(item)
        if (state.items.length >= stopAfter) break
      }
    } catch (error) {
      state.error = error as Error
    } finally {
      state.done = true
    }
  })()
  return Object.assign(state, { finished })
}

describe('WatchStreams', () => {
  it('refuses a watch past the connection bound with a precise error, and counts it', () => {
    const { watches, metrics } = setup({ maxWatchesPerConnection: 2 })
    const slots: WatchSlots = { held: 0 }
    const signal = new AbortController().signal
    watches.open('im.default.watch.a', signal, slots)
    watches.open('im.default.watch.a', signal, slots)
    expect(() => watches.open('im.default.watch.b', signal, slots)).toThrow(
      expect.objectContaining({ code: ImErrorCode.LimitExceeded, message: 'Too many watches on this connection: at most 2 may be open at once.' }),
    )
    expect(metrics.get('watches_refused_connection_limit')).toBe(1)
    // Another connection has slots of its own; a subscription handler has none to count.
    watches.open('im.default.watch.b', signal, { held: 0 })
    for (let i = 0; i < 5; i++) watches.open('im.default.watch.c', signal, undefined)
    expect(slots.held).toBe(2)
  })

  it('frees the slot and the subscription when the signal aborts', async () => {
    const { watches, fanout } = setup({ maxWatchesPerConnection: 1 })
    const slots: WatchSlots = { held: 0 }
    const cancel = new AbortController()
    const reader = read(watches.open('im.default.watch.a', cancel.signal, slots))
    await publish('im.default.watch.a', 1)
    cancel.abort()
    await reader.finished
    expect(reader).toMatchObject({ items: [1], done: true })
    expect(reader.error).toBeUndefined()
    expect(slots.held).toBe(0)
    expect(fanout.stats).toMatchObject({ subjects: 0, watchers: 0 })
    watches.open('im.default.watch.b', new AbortController().signal, slots)
    expect(slots.held).toBe(1)
  })

  it('frees the slot when the reader stops reading', async () => {
    const { watches, fanout } = setup()
    const slots: WatchSlots = { held: 0 }
    const reader = read(watches.open('im.default.watch.a', new AbortController().signal, slots), 1)
    await publish('im.default.watch.a', 'first')
    await reader.finished
    expect(reader.items).toEqual(['first'])
    expect(slots.held).toBe(0)
    expect(fanout.stats.subjects).toBe(0)
  })

  it('fails only the watcher whose reader fell behind; the others of the subject keep receiving', async () => {
    const { watches, fanout, metrics } = setup({ bufferSize: 3 })
    const slowSlots: WatchSlots = { held: 0 }
    const fast = read(watches.open('im.default.watch.a', new AbortController().signal, { held: 0 }))
    const slow = watches.open('im.default.watch.a', new AbortController().signal, slowSlots)
    for (let n = 1; n <= 5; n++) await publish('im.default.watch.a', n)
    expect(fast.items).toEqual([1, 2, 3, 4, 5])
    // The slow watch left at once (its slot too); its reader still gets what was buffered, then the error.
    expect(slowSlots.held).toBe(0)
    expect(fanout.stats.watchers).toBe(1)
    expect(metrics.get('watches_overflowed')).toBe(1)
    const late = read(slow)
    await late.finished
    expect(late.items).toEqual([1, 2, 3])
    expect(late.error).toBeInstanceOf(HubException)
    expect(late.error?.message).toBe('More than 3 items were waiting to be read.')
    await publish('im.default.watch.a', 6)
    expect(fast.items).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('counts a refusal at the node bound and takes no slot for it', () => {
    const { watches, metrics } = setup({ maxWatchedSubjects: 1 })
    const slots: WatchSlots = { held: 0 }
    const signal = new AbortController().signal
    watches.open('im.default.watch.a', signal, slots)
    expect(() => watches.open('im.default.watch.b', signal, slots)).toThrow('Too many subjects are watched on this node: at most 1.')
    expect(metrics.get('watches_refused_node_limit')).toBe(1)
    expect(slots.held).toBe(1)
  })

  it('refuses a subject that is not a topic, and opens nothing for an aborted signal', async () => {
    const { watches, fanout } = setup()
    const slots: WatchSlots = { held: 0 }
    expect(() => watches.open('im.default.watch.*', new AbortController().signal, slots)).toThrow(expect.objectContaining({ code: ImErrorCode.InvalidTopic }))
    const reader = read(watches.open('im.default.watch.a', AbortSignal.abort(), slots))
    await reader.finished
    expect(reader).toMatchObject({ items: [], done: true })
    expect(reader.error).toBeUndefined()
    expect(slots.held).toBe(0)
    expect(fanout.stats.subjects).toBe(0)
  })
})
