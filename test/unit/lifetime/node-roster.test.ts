/** The roster of live nodes: heard by heartbeats, let go after three silent intervals, never while cut off itself. */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import type { BusStatus } from '../../../src/bus/bus.js'
import { NodeRoster } from '../../../src/lifetime/presence/node-roster.js'
import { silentLogger } from '../../../src/logger.js'

const WAIT = { timeout: 2000, interval: 1 } as const
let bus: EmbeddedBus
afterEach(async () => {
  await bus?.close()
})

describe('NodeRoster', () => {
  it('hears other nodes, lets a silent one go after three intervals, and not while it is cut off itself', async () => {
    bus = new EmbeddedBus()
    let clock = 0
    let state: BusStatus['state'] = 'connected'
    const status = bus.status.bind(bus)
    bus.status = () => ({ ...status(), state })
    const gone: string[] = []
    const roster = (tag: string) => new NodeRoster({ bus, subject: 'im.test.presence.node.alive', tag, leaseMs: 100, gone: (t) => gone.push(t), logger: silentLogger, now: () => clock })
    const a = roster('a')
    const b = roster('b')
    a.start()
    b.start()
    await vi.waitFor(() => expect(a.alive().sort()).toEqual(['a', 'b']), WAIT)
    expect(a.settled).toBe(false)
    b.stop()
    clock = 250
    a.tick()
    expect([gone, a.settled]).toEqual([[], false])
    state = 'reconnecting'
    clock = 1000
    a.tick()
    expect(gone).toEqual([])
    state = 'connected'
    a.tick()
    expect(gone).toEqual([])
    clock = 1301
    a.tick()
    expect([gone, a.alive(), a.settled]).toEqual([['b'], ['a'], true])
    a.stop()
  })

  it('a node that starts later hears the earlier ones at once, not an interval later', async () => {
    bus = new EmbeddedBus()
    const roster = (tag: string) => new NodeRoster({ bus, subject: 'im.test.presence.node.alive', tag, leaseMs: 3_600_000, gone: () => undefined, logger: silentLogger })
    const early = roster('early')
    early.start()
    await new Promise((resolve) => setTimeout(resolve, 20)) // its start beat has gone by
    const late = roster('late')
    late.start()
    await vi.waitFor(() => expect([late.alive().sort(), early.alive().sort()]).toEqual([['early', 'late'], ['early', 'late']]), WAIT)
    early.stop()
    late.stop()
  })
})
