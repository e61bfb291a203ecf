/**
 * The compare-and-set table, the same checks against both implementations: in a JetStream stream
 * on a real nats-server (2.9 is enough), and in memory for the embedded bus. A write that names a
 * revision someone else replaced loses, and says so instead of failing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryVersionedStore } from '../../src/bus/versioned-store.js'
import type { VersionedStore } from '../../src/bus/versioned-store.js'
import { NatsBus } from '../../src/bus/nats-bus.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'

let nats: NatsServer
let bus: NatsBus
let made = 0

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true })
  bus = await NatsBus.create({ servers: nats.url, retryForever: false })
})

afterAll(async () => {
  await bus?.close()
  await nats?.stop()
})

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (value: Uint8Array | undefined): string | undefined => (value ? new TextDecoder().decode(value) : undefined)

const stores: Array<[string, () => Promise<VersionedStore>]> = [
  ['a JetStream stream', async () => {
    const store = bus.versionedStore(`TEST_STORE_${++made}`, `test.store.${made}`)
    await store.ensure()
    return store
  }],
  ['memory', async () => new MemoryVersionedStore()],
]

describe.each(stores)('the versioned store in %s', (_, make) => {
  it('creates a key once: a second create finds it taken', async () => {
    const store = await make()
    const revision = await store.create('alice', bytes('["a"]'))
    expect(typeof revision).toBe('number')
    expect(await store.create('alice', bytes('["b"]'))).toBe('taken')
    expect(text((await store.get('alice'))?.value)).toBe('["a"]')
  })

  it('updates only from the revision that is there, and removes only that revision', async () => {
    const store = await make()
    const first = (await store.create('bob', bytes('1'))) as number
    const second = await store.update('bob', bytes('2'), first)
    expect(typeof second).toBe('number')
    expect(await store.update('bob', bytes('3'), first)).toBe('stale')
    expect(await store.removeIf('bob', first)).toBe(false)
    expect(text((await store.get('bob'))?.value)).toBe('2')
    expect(await store.removeIf('bob', second as number)).toBe(true)
    expect(await store.get('bob')).toBeUndefined()
    // Gone: created afresh, as the first time.
    expect(typeof (await store.create('bob', bytes('4')))).toBe('number')
  })

  it('lists every key with its latest value', async () => {
    const store = await make()
    const c = (await store.create('cid', bytes('x'))) as number
    await store.update('cid', bytes('y'), c)
    await store.create('dee', bytes('z'))
    const entries = []
    for await (const entry of store.entries()) entries.push([entry.key, text(entry.value)])
    expect(entries.sort()).toEqual([['cid', 'y'], ['dee', 'z']])
  })

  it('lists nothing when it holds nothing', async () => {
    const store = await make()
    const entries = []
    for await (const entry of store.entries()) entries.push(entry)
    expect(entries).toEqual([])
  })
})
