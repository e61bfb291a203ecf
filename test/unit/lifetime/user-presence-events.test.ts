/**
 * Online/offline events over a shared compare-and-set table: two nodes share one in-memory table
 * and one bus, and whatever the interleaving of their users' arrivals and departures, each user
 * comes online once and goes offline once. A gone node's users are swept out.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { MemoryVersionedStore } from '../../../src/bus/versioned-store.js'
import type { VersionedStore } from '../../../src/bus/versioned-store.js'
import { LifetimeManager } from '../../../src/lifetime/lifetime-manager.js'
import type { PresentConnection } from '../../../src/lifetime/presence/local-presence.js'
import type { NodeRoster } from '../../../src/lifetime/presence/node-roster.js'
import { keyOf, userOf, UserPresenceEvents } from '../../../src/lifetime/presence/user-presence-events.js'
import { silentLogger } from '../../../src/logger.js'
import { countingProtocol, FakeConnection } from './fakes.js'

const SUBJECTS = { online: 'im.test.user.online', offline: 'im.test.user.offline' }
const WAIT = { timeout: 2000, interval: 1 } as const
const json = countingProtocol('json')

class Present extends FakeConnection implements PresentConnection {
  readonly transport = { name: 'WebSockets' }
  readonly createdAt = Date.now()
  close(): void {}
}

let bus: EmbeddedBus
afterEach(async () => {
  vi.useRealTimers()
  await bus?.close()
})

function setup(store: VersionedStore = new MemoryVersionedStore(), alive: string[] = ['node-a', 'node-b'], settled = { value: true }) {
  bus = new EmbeddedBus()
  const events: Array<{ subject: string; userId: string }> = []
  for (const subject of [SUBJECTS.online, SUBJECTS.offline]) {
    bus.subscribe(subject, (m) => void events.push({ subject: m.subject.endsWith('online') ? 'online' : 'offline', userId: JSON.parse(new TextDecoder().decode(m.data)).userId }))
  }
  const roster = { alive: () => alive, get settled() { return settled.value } } as unknown as NodeRoster
  const node = (tag: string, offlineDelayMs = 0) => {
    let lifetime: LifetimeManager<PresentConnection>
    const presence = new UserPresenceEvents({ bus, store, subjects: SUBJECTS, tag, lifetime: () => lifetime, roster: () => roster, retryMs: 10, offlineDelayMs, logger: silentLogger })
    lifetime = new LifetimeManager<PresentConnection>({ users: presence })
    return { lifetime, presence, tag }
  }
  const count = (subject: string, userId: string) => events.filter((e) => e.subject === subject && e.userId === userId).length
  return { store, events, node, count, alive }
}

describe('UserPresenceEvents', () => {
  it('announces a user once when two nodes see their first connections at the same moment, and once when both are gone', async () => {
    const { node, count } = setup()
    const a = node('node-a')
    const b = node('node-b')
    const onA = new Present('c1', 'alice', json)
    const onB = new Present('c2', 'alice', json)
    a.lifetime.add(onA)
    b.lifetime.add(onB)
    await vi.waitFor(() => expect(count('online', 'alice')).toBe(1), WAIT)
    a.lifetime.remove(onA)
    b.lifetime.remove(onB)
    await vi.waitFor(() => expect(count('offline', 'alice')).toBe(1), WAIT)
    await a.presence.stop(1000)
    await b.presence.stop(1000)
    expect([count('online', 'alice'), count('offline', 'alice')]).toEqual([1, 1])
  })

  it('says nothing for a second connection, or for the first of two nodes to let go', async () => {
    const { node, count, store } = setup()
    const a = node('node-a')
    const b = node('node-b')
    const first = new Present('c1', 'bea', json)
    a.lifetime.add(first)
    await vi.waitFor(() => expect(count('online', 'bea')).toBe(1), WAIT)
    a.lifetime.add(new Present('c2', 'bea', json))
    const onB = new Present('c3', 'bea', json)
    b.lifetime.add(onB)
    await vi.waitFor(async () => expect(JSON.parse(new TextDecoder().decode((await store.get(keyOf('bea')))!.value))).toEqual(['node-a', 'node-b']), WAIT)
    b.lifetime.remove(onB)
    await vi.waitFor(async () => expect(JSON.parse(new TextDecoder().decode((await store.get(keyOf('bea')))!.value))).toEqual(['node-a']), WAIT)
    expect([count('online', 'bea'), count('offline', 'bea')]).toEqual([1, 0])
  })

  it('writes nothing for a user who comes back within the offline delay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { node, count, store } = setup()
    const a = node('node-a', 1000)
    const connection = new Present('c1', 'cid', json)
    a.lifetime.add(connection)
    await vi.waitFor(() => expect(count('online', 'cid')).toBe(1), WAIT)
    const written = (await store.get(keyOf('cid')))!.revision
    a.lifetime.remove(connection)
    await vi.advanceTimersByTimeAsync(500)
    a.lifetime.add(new Present('c2', 'cid', json))
    await vi.advanceTimersByTimeAsync(1000)
    expect((await store.get(keyOf('cid')))!.revision).toBe(written)
    expect(count('offline', 'cid')).toBe(0)
  })

  it('waits a whole delay after the last departure, not after the first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    const { node, count, store } = setup()
    const a = node('node-a', 1000)
    const first = new Present('c1', 'dan', json)
    a.lifetime.add(first)
    await vi.waitFor(() => expect(count('online', 'dan')).toBe(1), WAIT)
    a.lifetime.remove(first)
    await vi.advanceTimersByTimeAsync(500)
    const second = new Present('c2', 'dan', json)
    a.lifetime.add(second)
    await vi.advanceTimersByTimeAsync(100)
    a.lifetime.remove(second)
    // A whole delay after the first departure, but not after the last one: still written in.
    await vi.advanceTimersByTimeAsync(500)
    expect(await store.get(keyOf('dan'))).toBeDefined()
    await vi.advanceTimersByTimeAsync(600)
    await vi.waitFor(() => expect(count('offline', 'dan')).toBe(1), WAIT)
    expect(await store.get(keyOf('dan'))).toBeUndefined()
  })

  it('sweeps a gone node out of every entry, announcing the users it alone held', async () => {
    const store = new MemoryVersionedStore()
    const { node, count, alive } = setup(store, ['node-a', 'node-b'])
    const a = node('node-a')
    const b = node('node-b')
    b.lifetime.add(new Present('c1', 'dee', json))
    b.lifetime.add(new Present('c2', 'eve', json))
    a.lifetime.add(new Present('c3', 'eve', json))
    await vi.waitFor(async () => expect((await store.get(keyOf('eve')))?.value && JSON.parse(new TextDecoder().decode((await store.get(keyOf('eve')))!.value)).length).toBe(2), WAIT)
    alive.splice(alive.indexOf('node-b'), 1)
    await a.presence.sweep()
    await vi.waitFor(() => expect(count('offline', 'dee')).toBe(1), WAIT)
    expect(count('offline', 'eve')).toBe(0)
    expect(JSON.parse(new TextDecoder().decode((await store.get(keyOf('eve')))!.value))).toEqual(['node-a'])
    expect(await store.get(keyOf('dee'))).toBeUndefined()
  })

  it('does not sweep before it has heard the bus long enough to know every live node', async () => {
    const store = new MemoryVersionedStore()
    const settled = { value: false }
    const { node, count } = setup(store, ['node-a'], settled)
    const a = node('node-a')
    await store.create(keyOf('gil'), new TextEncoder().encode(JSON.stringify(['node-unheard'])))
    await a.presence.sweep()
    expect(await store.get(keyOf('gil'))).toBeDefined()
    settled.value = true
    // The sweep put off comes back by itself.
    await vi.waitFor(async () => expect(await store.get(keyOf('gil'))).toBeUndefined(), WAIT)
    await vi.waitFor(() => expect(count('offline', 'gil')).toBe(1), WAIT)
    await a.presence.stop(100)
  })

  it('leaves the sweep to the lowest tag alive', async () => {
    const store = new MemoryVersionedStore()
    const { node, count } = setup(store, ['node-b', 'node-c'])
    const b = node('node-b')
    await store.create(keyOf('fay'), new TextEncoder().encode(JSON.stringify(['node-gone'])))
    const c = node('node-c')
    await c.presence.sweep()
    expect(await store.get(keyOf('fay'))).toBeDefined()
    await b.presence.sweep()
    expect(await store.get(keyOf('fay'))).toBeUndefined()
    await vi.waitFor(() => expect(count('offline', 'fay')).toBe(1), WAIT)
  })

  it('keys any user id as one subject token and reads it back', () => {
    for (const userId of ['alice', 'a.b*c>d e', 'ünïcødé/ユーザー', '']) {
      expect(keyOf(userId)).toMatch(/^[A-Za-z0-9_-]*$/)
      expect(userOf(keyOf(userId))).toBe(userId)
    }
  })
})
