import { describe, expect, it } from 'vitest'
import { ClientWrites } from '../../../src/transports/client-writes.js'
import type { HeldWrites } from '../../../src/transports/client-writes.js'

const endOfTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

function writer(log: string[], name: string): HeldWrites {
  return { releaseWrites: () => log.push(name) }
}

describe('ClientWrites', () => {
  it('holds each writer once per tick and releases all of them together at the end of the tick', async () => {
    const writes = new ClientWrites()
    const log: string[] = []
    const a = writer(log, 'a')
    const b = writer(log, 'b')
    expect(writes.hold(a)).toBe(true)
    expect(writes.hold(a)).toBe(false)
    expect(writes.hold(b)).toBe(true)
    expect(log).toEqual([])
    await endOfTick()
    expect(log).toEqual(['a', 'b'])
    // A new tick holds again.
    expect(writes.hold(a)).toBe(true)
    await endOfTick()
    expect(log).toEqual(['a', 'b', 'a'])
  })

  it('keeps no state between two instances (two servers in one process)', async () => {
    const first = new ClientWrites()
    const second = new ClientWrites()
    const log: string[] = []
    const shared = writer(log, 'shared')
    expect(first.hold(shared)).toBe(true)
    expect(second.hold(shared)).toBe(true)
    const frame = first.frame('payload', false)
    expect(second.frame('payload', false)).not.toBe(frame)
    await endOfTick()
    expect(log).toEqual(['shared', 'shared'])
  })

  it('builds a frame once for the same payload in a row, and anew for another payload or kind', () => {
    const writes = new ClientWrites()
    const frame = writes.frame('broadcast', false)
    expect(writes.frame('broadcast', false)).toBe(frame)
    expect(writes.frame('broadcast', true)).not.toBe(frame)
    const bytes = new Uint8Array([1, 2])
    const binary = writes.frame(bytes, true)
    expect(writes.frame(bytes, true)).toBe(binary)
    expect(writes.frame(new Uint8Array([1, 2]), true)).not.toBe(binary)
  })
})
