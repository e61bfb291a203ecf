/**
 * A node's JetStream consumer that disappears under traffic (deleted by an operator, or removed
 * by the server) against a real nats-server: core NATS stands in at once, the consumer is made
 * again right after the last message the node handled, and an official client gets every
 * message exactly once.
 */
import { describe, expect, it, vi } from 'vitest'
import type { LogFields, Logger } from '../../src/logger.js'
import { connectClient } from '../support/clients.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'

const fixture = jetStreamFixture()
const TICK_MS = 20

function capture(lines: string[]): Logger {
  const write = (message: string, fields?: LogFields): void => void lines.push(`${message} ${fields ? JSON.stringify(fields) : ''}`)
  return { debug: () => undefined, info: write, warn: write, error: write }
}

describe("a node's consumer lost under traffic", () => {
  it('is made again after the last message handled while core NATS stands in; every message arrives once', async () => {
    const lines: string[] = []
    const server = await fixture.node({ config: { jetstream: { stream: 'IM_DEFAULT' } }, logger: capture(lines) })
    const connection = await connectClient(server.hubUrl())
    fixture.onCleanup(() => connection.stop())
    const seen = new Map<number, number>()
    connection.on('tick', (n: number) => seen.set(n, (seen.get(n) ?? 0) + 1))
    let sent = 0
    const timer = setInterval(() => fixture.nc.publish('im.default.send', JSON.stringify({ method: 'tick', args: [sent++] })), TICK_MS)
    fixture.onCleanup(async () => clearInterval(timer))
    await vi.waitFor(() => expect(seen.size).toBeGreaterThanOrEqual(10), { timeout: 10_000, interval: 20 })

    // nats-server 2.9 may answer a delete racing the consumer's own writes with "directory not
    // empty" after it removed the consumer: what counts is that it is gone.
    const name = `im-${server.nodeId}`
    await fixture.jsm.consumers.delete('IM_DEFAULT', name).catch(async (error: unknown) => {
      if (!/directory not empty/.test(String(error))) throw error
    })
    await vi.waitFor(() => expect(lines.join('\n')).toMatch(/JetStream consumer im-\S+ on IM_DEFAULT created; it starts after stream sequence \d+/), { timeout: 10_000, interval: 20 })
    await vi.waitFor(() => expect(server.bus.status().stream?.state).toBe('ready'), { timeout: 10_000, interval: 20 })
    const after = sent
    await vi.waitFor(() => expect(seen.has(after + 20)).toBe(true), { timeout: 10_000, interval: 20 })
    clearInterval(timer)
    const last = sent - 1
    await vi.waitFor(() => expect(seen.has(last)).toBe(true), { timeout: 10_000, interval: 20 })

    const first = Math.min(...seen.keys())
    const missing = Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((n) => !seen.has(n))
    const repeated = [...seen].filter(([, count]) => count > 1).map(([n]) => n)
    expect({ missing, repeated }).toEqual({ missing: [], repeated: [] })
    expect(lines.join('\n')).toContain('stalled (the consumer is gone)')
  })
})
