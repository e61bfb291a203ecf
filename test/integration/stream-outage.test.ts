/**
 * A stream outage is not a delivery outage, against a real nats-server: a node's JetStream
 * consumer that disappears under traffic is made again right after the last message the node
 * handled while core NATS stands in, and a stream that cannot be set up at start leaves clients
 * served from core NATS until it can. An official client gets every message exactly once.
 */
import { describe, expect, it, vi } from 'vitest'
import type { LogFields, Logger } from '../../src/logger.js'
import { connectClient } from '../support/clients.js'
import { startTestServer, untilSubscribed } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { probe } from '../support/probes.js'
import { TestService } from '../support/service.js'

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

describe('a stream that cannot be set up at start', () => {
  it('leaves clients served from core NATS (not ready, saying so) and moves to the stream once JetStream is there, repeating nothing', async () => {
    const port = await freePort()
    let nats: NatsServer = await startNatsServer({ port })
    fixture.onCleanup(() => nats.stop())
    const lines: string[] = []
    const server = await startTestServer({ natsUrl: nats.url, config: { jetstream: { stream: 'IM_LATE' }, nats: { reconnectWaitMs: 100 } }, logger: capture(lines) })
    fixture.onCleanup(() => server.close())
    await untilSubscribed(server)
    const connection = await connectClient(server.hubUrl())
    fixture.onCleanup(() => connection.stop())
    const seen = new Map<number, number>()
    connection.on('tick', (n: number) => seen.set(n, (seen.get(n) ?? 0) + 1))

    const ready = await probe(server.url, '/healthz/ready')
    expect(ready.status).toBe(503)
    expect(ready.body.reasons).toEqual([expect.stringMatching(/^JetStream stream IM_LATE unavailable: .+; its subjects come from core NATS$/)])
    expect(lines.join('\n')).toContain('JetStream stream IM_LATE cannot be used')

    let service = await TestService.connect(nats.url)
    let sent = 0
    const tick = async (): Promise<void> => service.publishRaw('im.default.send', JSON.stringify({ method: 'tick', args: [sent++] }))
    for (let i = 0; i < 5; i++) await tick()
    await vi.waitFor(() => expect(seen.size).toBe(5), { timeout: 5000, interval: 20 })

    // The same port now has a server with JetStream; the node reconnects and sets the stream up.
    await service[Symbol.asyncDispose]()
    await nats.stop()
    nats = await startNatsServer({ port, jetstream: true })
    service = await TestService.connect(nats.url)
    fixture.onCleanup(() => service[Symbol.asyncDispose]())
    await vi.waitFor(() => expect(server.bus.status().state).toBe('connected'), { timeout: 10_000, interval: 20 })
    // Ticks flow through the switch: core NATS until the consumer has caught up, then the stream.
    const switched = (async () => {
      while (server.bus.status().stream?.state !== 'ready') {
        await tick()
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    await vi.waitFor(() => expect(server.bus.status().stream?.state).toBe('ready'), { timeout: 15_000, interval: 20 })
    await switched
    const firstAfterRestart = 5
    for (let i = 0; i < 20; i++) await tick()
    const last = sent - 1
    await vi.waitFor(() => expect(seen.has(last)).toBe(true), { timeout: 10_000, interval: 20 })

    expect((await probe(server.url, '/healthz/ready')).status).toBe(200)
    // Both paths ran for a while: what the stream brought of those ticks was skipped, and counted.
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    console.log(`[stream-outage] switch from core NATS to the stream: ${/^im_jetstream_duplicates_skipped (\d+)$/m.exec(metrics)?.[1]} copies skipped`)
    expect(Number(/^im_jetstream_duplicates_skipped (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    const missing = Array.from({ length: last - firstAfterRestart + 1 }, (_, i) => firstAfterRestart + i).filter((n) => !seen.has(n))
    const repeated = [...seen].filter(([, count]) => count > 1).map(([n]) => n)
    expect({ missing, repeated }).toEqual({ missing: [], repeated: [] })
  })
})
