/**
 * Slow consumers: a client that stops reading is closed once what waits for it passes the bound,
 * so the server's memory stays bounded, and the other clients keep getting every message.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const RS = '\u001e'
let server: TestServer

beforeAll(async () => {
  server = await startTestServer({ config: { hubs: { maxBufferedBytes: 256 * 1024, maxBufferedMessages: 50, disconnectTimeoutMs: 30_000 } } })
})

afterAll(async () => {
  await server?.close()
})

const broadcast = (method: string, args: unknown[]): Promise<void> =>
  server.bus.publish('im.default.send', new TextEncoder().encode(JSON.stringify({ method, args })))

async function connectionCount(): Promise<number> {
  return ((await (await fetch(`${server.url}/healthz`)).json()) as { connections: number }).connections
}

describe('backpressure', () => {
  it('closes a WebSocket client that stops reading, and the others get every message', async () => {
    await using bystander = await connectClient(server.hubUrl())
    const inbox = new Inbox(bystander, 'bulk')
    const slow = new WebSocket(`${server.hubUrl().replace('http', 'ws')}`)
    await withTimeout(new Promise((resolve, reject) => slow.once('open', resolve).once('error', reject)), 5000, 'open')
    const handshake = new Promise((resolve) => slow.once('message', resolve))
    slow.send(`{"protocol":"json","version":1}${RS}`)
    await withTimeout(handshake, 5000, 'the handshake')
    // Stop reading: the kernel buffers fill, then the server's.
    ;(slow as unknown as { _socket: { pause(): void } })._socket.pause()
    const closedBefore = server.metrics.get('connections_closed_slow_consumer')

    // 9.6 MB in small bursts: the bystander (in this same process) reads between them.
    const payload = 'x'.repeat(16 * 1024)
    const count = 600
    for (let i = 0; i < count; i++) {
      await broadcast('bulk', [i, payload])
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5))
    }

    for (let i = 0; i < count; i++) expect((await inbox.next())[0]).toBe(i)
    await vi.waitFor(() => expect(server.metrics.get('connections_closed_slow_consumer')).toBe(closedBefore + 1), { timeout: 10_000, interval: 50 })
    await vi.waitFor(async () => expect(await connectionCount()).toBe(1), { timeout: 10_000, interval: 100 })
    slow.terminate()
  }, 30_000)

  it('closes a long-polling client that stops polling once its queue passes the message bound', async () => {
    const body = (await (await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    const at = `${server.hubUrl()}?id=${body.connectionToken}`
    await fetch(at)
    await fetch(at, { method: 'POST', body: `{"protocol":"json","version":1}${RS}` })
    const closedBefore = server.metrics.get('connections_closed_slow_consumer')
    for (let i = 0; i < 60; i++) await broadcast('queued', [i])
    await vi.waitFor(() => expect(server.metrics.get('connections_closed_slow_consumer')).toBe(closedBefore + 1), { timeout: 5000, interval: 20 })
    // The connection is gone: its token opens nothing any more.
    await vi.waitFor(async () => expect((await fetch(at)).status).toBe(404), { timeout: 5000, interval: 50 })
  })
})
