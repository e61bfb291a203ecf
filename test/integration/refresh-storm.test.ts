/**
 * Sparing the services the refresh storm (docs/service-api.md): a broadcast with `spreadMs`
 * reaches a thousand connections spread over the window instead of all at once, and messages
 * with the same `collapseKey` reach each client once per window, the last one. A service
 * publishes on a real nats-server; the thousand clients are minimal raw WebSocket clients
 * (skipNegotiation), the group clients are the official @microsoft/signalr client.
 */
import { performance } from 'node:perf_hooks'
import { afterAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'

// A thousand connections from one loopback address: above the per-address limit's default.
const fixture = natsFixture({ nodes: [{ config: { hubs: { maxConnectionsPerAddress: 10_000 } } }] })

const RS = '\u001e'

/**
 * A JSON-protocol client on a bare WebSocket: the handshake and the time at which each
 * Invocation arrived, nothing more (the official client costs too much for a thousand).
 */
class RawClient {
  readonly arrivals: Array<{ target: string; args: unknown[]; at: number }> = []
  private waiters: Array<() => void> = []

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const at = performance.now()
      for (const frame of data.toString().split(RS)) {
        if (frame.length === 0) continue
        const message = JSON.parse(frame) as { type?: number; target?: string; arguments?: unknown[] }
        if (message.type === 1) this.arrivals.push({ target: message.target!, args: message.arguments ?? [], at })
      }
      for (const wake of this.waiters.splice(0)) wake()
    })
  }

  static async connect(url: string): Promise<RawClient> {
    const socket = new WebSocket(url)
    const handshake = new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.once('open', () => socket.send(`{"protocol":"json","version":1}${RS}`))
      // The handshake response is the first frame: `{}` followed by the record separator.
      socket.once('message', (data) => {
        const text = data.toString()
        if (text.startsWith(`{}${RS}`)) resolve()
        else reject(new Error(`handshake refused: ${text}`))
      })
    })
    const client = new RawClient(socket)
    await withTimeout(handshake, 10_000, 'the handshake of a raw client')
    return client
  }

  /** Resolves once an Invocation of `target` has arrived. */
  async received(target: string, timeoutMs: number): Promise<number> {
    const find = () => this.arrivals.find((arrival) => arrival.target === target)
    const arrived = async (): Promise<number> => {
      while (!find()) await new Promise<void>((resolve) => this.waiters.push(resolve))
      return find()!.at
    }
    return withTimeout(arrived(), timeoutMs, `${target} on a raw client`)
  }

  close(): void {
    this.socket.terminate()
  }
}

describe('spreadMs', () => {
  const COUNT = 1000
  const raw: RawClient[] = []
  afterAll(() => {
    for (const client of raw) client.close()
  })

  it('spreads a broadcast to 1,000 connections over about two seconds', async () => {
    const url = fixture.server.hubUrl().replace(/^http/, 'ws')
    // In batches, so that a loaded two-core machine is not asked for a thousand handshakes at once.
    for (let opened = 0; opened < COUNT; opened += 100) {
      raw.push(...(await Promise.all(Array.from({ length: Math.min(100, COUNT - opened) }, () => RawClient.connect(url)))))
    }
    // Every connection is in the lifetime manager once an unshaped broadcast has reached it.
    await fixture.service.publish('im.default.send', { method: 'ready' })
    await Promise.all(raw.map((client) => client.received('ready', 15_000)))

    const start = performance.now()
    await fixture.service.publish('im.default.send', { method: 'refresh', args: ['orders'], spreadMs: 2000 })
    const arrivals = (await Promise.all(raw.map((client) => client.received('refresh', 15_000)))).map((at) => at - start)

    const first = Math.min(...arrivals)
    const last = Math.max(...arrivals)
    const bins = new Map<number, number>()
    for (const at of arrivals) bins.set(Math.floor(at / 200), (bins.get(Math.floor(at / 200)) ?? 0) + 1)
    const busiest = Math.max(...bins.values())
    console.info(
      `spreadMs 2000 to ${COUNT} connections: first ${first.toFixed(0)} ms, last ${last.toFixed(0)} ms, ` +
        `busiest 200 ms slice ${busiest} (${bins.size} slices reached)`,
    )
    // Evenly spread, each 200 ms slice would get 100; all at once, one slice would get 1,000.
    expect(last - first).toBeGreaterThanOrEqual(1200)
    expect(last).toBeLessThanOrEqual(3000)
    expect(busiest).toBeLessThanOrEqual(COUNT / 4)
    // Every connection got it exactly once.
    expect(raw.every((client) => client.arrivals.filter((arrival) => arrival.target === 'refresh').length === 1)).toBe(true)
  }, 60_000)
})

describe('collapseKey', () => {
  const clients: TestClient[] = []
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.stop()))
  })

  it('delivers the last of five messages with the same key once to each group member, once per window', async () => {
    clients.push(...(await Promise.all(Array.from({ length: 5 }, () => connectClient(fixture.server.hubUrl())))))
    for (const client of clients) await fixture.service.publish('im.default.groups.add', { group: 'dashboard', connectionId: client.connectionId })
    const inboxes = clients.map((client) => new Inbox(client, 'refreshTable'))
    const probes = clients.map((client) => new Inbox(client, 'probe'))
    const started = performance.now()

    for (let version = 1; version <= 5; version++) {
      await fixture.service.publish('im.default.send.group', { group: 'dashboard', method: 'refreshTable', args: ['orders', version], collapseKey: 'orders', collapseWindowMs: 1000 })
    }
    for (const inbox of inboxes) expect(await inbox.next(5000)).toEqual(['orders', 5])
    // Held for the window, not delivered as the first message came.
    expect(performance.now() - started).toBeGreaterThanOrEqual(900)

    // A second window: again one message, the last.
    for (let version = 6; version <= 8; version++) {
      await fixture.service.publish('im.default.send.group', { group: 'dashboard', method: 'refreshTable', args: ['orders', version], collapseKey: 'orders', collapseWindowMs: 1000 })
    }
    for (const inbox of inboxes) expect(await inbox.next(5000)).toEqual(['orders', 8])

    // Anything else would have arrived before this unshaped probe, sent after the second window.
    await fixture.service.publish('im.default.send.group', { group: 'dashboard', method: 'probe' })
    for (const probe of probes) await probe.next()
    for (const inbox of inboxes) expect(inbox.received).toEqual([['orders', 5], ['orders', 8]])
  }, 30_000)
})
