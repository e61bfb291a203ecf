/**
 * The entry of a token reads the current transport from its connection: whatever a resume, a
 * refused resume, a lost transport or a move here does to the connection, the entry says the same.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Principal } from '../../../src/auth/principal.js'
import { ConnectionRegistry } from '../../../src/cluster/connection-registry.js'
import { nodeTag } from '../../../src/cluster/node-tag.js'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { FakeTransport, harness, openHarness } from '../connection/fake-transport.js'

const alice: Principal = { userId: 'alice', claims: { sub: 'alice' } }

describe('ConnectionEntry', () => {
  const registries: ConnectionRegistry[] = []
  const registry = (): ConnectionRegistry => {
    const made = new ConnectionRegistry(5000, nodeTag('node-1'))
    registries.push(made)
    return made
  }
  afterEach(() => {
    for (const made of registries.splice(0)) made.stop()
    vi.useRealTimers()
  })

  it('has no connection, transport or address until a transport opens it', () => {
    const entry = registry().create(alice, 1, true)
    expect([entry.connection, entry.transport, entry.address]).toEqual([undefined, undefined, undefined])
    const { connection, transport } = openHarness({ stateful: true })
    entry.opened(connection, '10.0.0.1')
    expect(entry.connection).toBe(connection)
    expect(entry.transport).toBe(transport)
    expect(entry.address).toBe('10.0.0.1')
  })

  it('is on the new transport after a resume, as its connection is', () => {
    const entry = registry().create(alice, 1, true)
    const { connection, transport } = openHarness({ stateful: true })
    entry.opened(connection, undefined)
    transport.end(new Error('reset'))
    // Detached: both still name the lost transport, and neither writes to it.
    expect(connection.state).toBe(ConnectionState.Detached)
    expect(entry.transport).toBe(transport)
    const next = new FakeTransport()
    connection.resume(next)
    expect(connection.transport).toBe(next)
    expect(entry.transport).toBe(next)
    // A second reconnect that swaps a live transport: the same again.
    const third = new FakeTransport()
    connection.resume(third)
    expect([connection.transport, entry.transport]).toEqual([third, third])
  })

  it('keeps the old transport when the connection refuses a resume (it ended before the socket came)', () => {
    const entry = registry().create(alice, 1, true)
    const { connection, transport } = openHarness({ stateful: true })
    entry.opened(connection, undefined)
    connection.close()
    const late = new FakeTransport()
    connection.resume(late)
    expect(late.closes).toHaveLength(1)
    expect(connection.transport).toBe(transport)
    expect(entry.transport).toBe(transport)
  })

  it('follows a connection moving here from its placeholder to the socket its client resumes on', () => {
    const entry = registry().adopt('token-1', 'connection-1', alice, true)
    // The hub endpoint gives a connection moving here a transport that takes nothing (noTransport).
    const placeholder = new FakeTransport()
    const { connection } = harness({ stateful: true, transport: placeholder, movingIn: { protocol: 'json' } })
    entry.opened(connection, undefined)
    expect(entry.transport).toBe(placeholder)
    connection.completeMove({ buffer: { sent: 0, received: 0, frames: [] }, mark: 0, groups: [], streams: [] })
    const socket = new FakeTransport()
    connection.resume(socket)
    expect(connection.state).toBe(ConnectionState.Open)
    expect(entry.transport).toBe(socket)
  })

  it('keeps an opened token past the negotiation timeout while its connection waits for a resume', () => {
    vi.useFakeTimers()
    vi.setSystemTime(1_000_000)
    const made = registry()
    const entry = made.create(alice, 1, true)
    const unused = made.create(alice, 1, true)
    const { connection, transport } = openHarness({ stateful: true })
    entry.opened(connection, undefined)
    transport.end(new Error('reset'))
    vi.advanceTimersByTime(5000 + 2000)
    expect(made.get(unused.token)).toBeUndefined()
    expect(made.get(entry.token)).toBe(entry)
    expect([...made.open()]).toEqual([connection])
  })
})
