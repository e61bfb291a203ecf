/**
 * The offline store against a real nats-server with JetStream: copies that land out of order still
 * leave the newest copy with the highest source sequence and are read back once each, in order;
 * cursors only move forward, also when several writers race.
 */
import { describe, expect, it } from 'vitest'
import { OfflineStore, userKey } from '../../src/bus/offline-store.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'

const fixture = jetStreamFixture()
const encoder = new TextEncoder()
const decoder = new TextDecoder()

async function store(): Promise<OfflineStore> {
  const offline = new OfflineStore(fixture.nc, { hub: 'default', stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors', ttlMs: 60_000, maxPerUser: 10, duplicateWindowMs: 60_000 })
  await offline.ensure({ stream: 'IM_DEFAULT', created: '2026-12-02T00:00:00Z' })
  return offline
}

describe('OfflineStore', () => {
  it('knows the highest source sequence from the newest copy when copies land out of order, and reads each once in order', async () => {
    const offline = await store()
    await offline.append('zoe', 11, encoder.encode('eleven'))
    // Another node's copy of an earlier message lands after it.
    await offline.append('zoe', 10, encoder.encode('ten'))
    expect((await offline.newest('zoe')).highestSequence).toBe(11)
    // The same copy again (a redelivery) is not kept twice; racing copies all land.
    await offline.append('zoe', 10, encoder.encode('ten'))
    await Promise.all([12, 14, 13].map((sequence) => offline.append('zoe', sequence, encoder.encode(String(sequence)))))
    expect((await offline.newest('zoe')).highestSequence).toBe(14)
    const read = await offline.pending('zoe', 0, 100)
    expect(read.map((m) => [m.sourceSequence, decoder.decode(m.data)])).toEqual([[10, 'ten'], [11, 'eleven'], [12, '12'], [13, '13'], [14, '14']])
    expect(await offline.pending('zoe', 12, 100)).toHaveLength(2)
    expect(await offline.pending('zoe', 0, 10)).toHaveLength(1)
    expect(offline.subjectOf('zoe')).toBe(`im.default.offline.${userKey('zoe')}`)
  })

  it('moves a cursor only forward, whatever order racing writers come in', async () => {
    const offline = await store()
    expect(await offline.cursor('yan')).toEqual({ sequence: 0, revision: 0 })
    await Promise.all([5, 9, 7, 3, 8].map((sequence) => offline.advance('yan', sequence)))
    expect((await offline.cursor('yan')).sequence).toBe(9)
    await offline.advance('yan', 4)
    expect((await offline.cursor('yan')).sequence).toBe(9)
  })

  it("keeps each hub's users apart, and adds a hub's subjects to the store without dropping another node's", async () => {
    const offline = await store()
    await offline.append('wes', 1, encoder.encode('default'))
    await offline.advance('wes', 1)
    const both = new OfflineStore(fixture.nc, { hub: 'default', hubs: ['inbox'], stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors', ttlMs: 60_000, maxPerUser: 10, duplicateWindowMs: 60_000 })
    await both.ensure({ stream: 'IM_DEFAULT', created: '2026-12-02T00:00:00Z' })
    expect((await fixture.jsm.streams.info('IM_OFFLINE')).config.subjects).toEqual(['im.default.offline.>', 'im.inbox.offline.>'])
    const inbox = both.forHub('inbox')
    expect(inbox.subjectOf('wes')).toBe(`im.inbox.offline.${userKey('wes')}`)
    expect(await inbox.cursor('wes')).toEqual({ sequence: 0, revision: 0 })
    expect((await inbox.newest('wes')).highestSequence).toBe(0)
    await inbox.append('wes', 2, encoder.encode('inbox'))
    await inbox.advance('wes', 2)
    expect((await offline.cursor('wes')).sequence).toBe(1)
    expect((await offline.pending('wes', 0, 100)).map((m) => decoder.decode(m.data))).toEqual(['default'])
    expect((await inbox.pending('wes', 0, 100)).map((m) => decoder.decode(m.data))).toEqual(['inbox'])
    // The DefaultHub's cursor keys are the bare user key, as before other hubs had offline delivery.
    expect((await fixture.jsm.direct.getMessage('KV_im-offline-cursors', { last_by_subj: `$KV.im-offline-cursors.${userKey('wes')}` }))?.string()).toBe('1')
    expect((await fixture.jsm.direct.getMessage('KV_im-offline-cursors', { last_by_subj: `$KV.im-offline-cursors.inbox.${userKey('wes')}` }))?.string()).toBe('2')
  })

  it('keeps copies of every hub when nodes add their hubs to the store at the same moment (the last update wins)', async () => {
    await store()
    const settings = { hub: 'default', stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors', ttlMs: 60_000, maxPerUser: 10, duplicateWindowMs: 60_000 }
    const hubs = ['chat', 'inbox', 'orders', 'rooms']
    const stores = hubs.map((hub) => new OfflineStore(fixture.nc, { ...settings, hubs: [hub] }))
    await Promise.all(stores.map((s) => s.ensure({ stream: 'IM_DEFAULT', created: '2026-12-02T00:00:00Z' })))
    // A hub whose subject another node's update dropped gets it back at its first failed copy,
    // and the sorter's next offer lands (here: offered again until it does, as the sorter does).
    await Promise.all(
      stores.map(async (s, i) => {
        const hubStore = s.forHub(hubs[i]!)
        for (let offer = 1; ; offer++) {
          // Each message has its own sequence in the one capturing stream, whatever its hub.
          const landed = await hubStore.append('zoe', i + 1, encoder.encode(hubs[i]!)).then(() => true, () => false)
          if (landed) return
          expect(offer).toBeLessThan(10)
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20))
        }
      }),
    )
    expect(new Set((await fixture.jsm.streams.info('IM_OFFLINE')).config.subjects)).toEqual(new Set(['default', ...hubs].map((hub) => `im.${hub}.offline.>`)))
    for (const [i, s] of stores.entries()) expect((await s.forHub(hubs[i]!).pending('zoe', 0, 10)).map((m) => decoder.decode(m.data))).toEqual([hubs[i]])
  })

  it('empties the store and the cursors when the capturing stream is a new one', async () => {
    const offline = await store()
    await offline.append('xia', 1, encoder.encode('old'))
    await offline.advance('xia', 1)
    const again = new OfflineStore(fixture.nc, { hub: 'default', stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors', ttlMs: 60_000, maxPerUser: 10, duplicateWindowMs: 60_000 })
    expect(await again.ensure({ stream: 'IM_DEFAULT', created: '2026-12-02T00:00:00Z' })).toBe(false)
    expect(await again.ensure({ stream: 'IM_DEFAULT', created: '2026-12-02T01:00:00Z' })).toBe(true)
    expect((await again.cursor('xia')).sequence).toBe(0)
    expect((await again.newest('xia')).highestSequence).toBe(0)
  })
})
