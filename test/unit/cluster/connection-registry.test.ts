import { afterEach, describe, expect, it, vi } from 'vitest'
import { ANONYMOUS } from '../../../src/auth/principal.js'
import type { Principal } from '../../../src/auth/principal.js'
import type { HubConnection } from '../../../src/connection/hub-connection.js'
import { ConnectionRegistry } from '../../../src/cluster/connection-registry.js'
import { nodeTag } from '../../../src/cluster/node-tag.js'

const TAG = nodeTag('node-1')
/** The node's tag, then 16 random bytes in base64url (22 characters). */
const KEY = new RegExp(`^${TAG}[A-Za-z0-9_-]{22}$`)
const TTL = 5000
const alice: Principal = { userId: 'alice', claims: { sub: 'alice' } }
/** What the registry asks of an open connection: nothing, it only keeps it. */
const someConnection = {} as HubConnection

describe('ConnectionRegistry', () => {
  const registries: ConnectionRegistry[] = []
  const start = (): ConnectionRegistry => {
    const registry = new ConnectionRegistry(TTL, TAG)
    registries.push(registry)
    return registry
  }
  afterEach(() => {
    for (const registry of registries.splice(0)) registry.stop()
    vi.useRealTimers()
  })

  it('knows by connection id which connections it handed over, until they end or come back', () => {
    const registry = start()
    const [a, b] = [registry.create(alice, 1), registry.create(alice, 1)]
    registry.handOver(a, 'other1')
    registry.handOver(b, 'other1')
    expect([registry.isHandedOver(a.connectionId), registry.isHandedOver(b.connectionId)]).toEqual([true, true])
    registry.forget(a.token)
    registry.adopt(b.token, b.connectionId, alice, false)
    expect([registry.isHandedOver(a.connectionId), registry.isHandedOver(b.connectionId)]).toEqual([false, false])
    expect(registry.isHandedOver('unknown')).toBe(false)
  })

  it('uses the connection id as the token for negotiate v0', () => {
    const entry = start().create(alice, 0)
    expect(entry.token).toBe(entry.connectionId)
    expect(entry.connectionId).toMatch(KEY)
    expect(entry.principal).toBe(alice)
  })

  it('gives negotiate v1 a separate token of the tag and 22 base64url characters', () => {
    const entry = start().create(ANONYMOUS, 1)
    expect(entry.token).not.toBe(entry.connectionId)
    expect(entry.token).toMatch(KEY)
    expect(entry.connectionId).toMatch(KEY)
  })

  it('finds an entry by token, not by connection id, until it is deleted', () => {
    const registry = start()
    const entry = registry.create(alice, 1)
    expect(registry.size).toBe(1)
    expect(registry.get(entry.token)).toBe(entry)
    expect(registry.get(entry.connectionId)).toBeUndefined()
    expect(registry.get('unknown')).toBeUndefined()
    registry.delete(entry)
    expect(registry.get(entry.token)).toBeUndefined()
    expect(registry.size).toBe(0)
  })

  it('keeps a negotiated entry for the time to live and forgets it after, unless a transport opened', () => {
    vi.useFakeTimers()
    vi.setSystemTime(1_000_000)
    const registry = start()
    const unused = registry.create(alice, 1)
    const used = registry.create(alice, 1)
    used.opened(someConnection, '10.0.0.1')
    vi.setSystemTime(1_000_000 + TTL)
    expect(registry.get(unused.token)).toBe(unused)
    vi.setSystemTime(1_000_000 + TTL + 1)
    expect(registry.get(unused.token)).toBeUndefined()
    expect(registry.get(used.token)).toBe(used)
  })

  it('sweeps out expired unused entries and keeps opened ones', () => {
    vi.useFakeTimers()
    const registry = start()
    registry.create(alice, 1)
    const used = registry.create(alice, 1)
    used.opened(someConnection, '10.0.0.1')
    vi.advanceTimersByTime(TTL + 2000)
    expect(registry.size).toBe(1)
    expect(registry.get(used.token)).toBe(used)
  })

  it('lists only entries that have a connection as open', () => {
    const registry = start()
    const first = registry.create(alice, 1)
    registry.create(alice, 1)
    const connection = { connectionId: first.connectionId } as HubConnection
    first.opened(connection, undefined)
    expect([...registry.open()]).toEqual([connection])
  })

  it('does not register a connection opened without negotiate', () => {
    const registry = start()
    const entry = registry.anonymousEntry(ANONYMOUS)
    expect(entry.token).toBe(entry.connectionId)
    expect(entry.connectionId).toMatch(KEY)
    expect(registry.size).toBe(0)
    expect(registry.get(entry.token)).toBeUndefined()
  })
})
