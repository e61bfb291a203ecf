/**
 * Guards at the edge that already held when the node was attacked from the internet, kept as
 * regression tests: oversized headers, an oversized WebSocket frame, a flood of negotiations and
 * request targets that are no valid path each cost a bounded amount, and the node goes on serving.
 */
import { connect as tcpConnect } from 'node:net'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { connectClient, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

// A heap figure means something only after a collection; the test runner does not expose gc().
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let server: TestServer
let bystander: TestClient

beforeAll(async () => {
  server = await startTestServer({ config: { hubs: { negotiationTimeoutMs: 500 } } })
  bystander = await connectClient(server.hubUrl())
})

afterAll(async () => {
  await bystander?.stop()
  await server?.close()
})

/** Sends raw bytes and returns everything the node answers until it closes the socket. */
async function rawHttp(request: string): Promise<string> {
  const socket = tcpConnect(server.port, '127.0.0.1')
  let answer = ''
  socket.on('data', (chunk) => (answer += chunk.toString('latin1')))
  socket.on('error', () => {})
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(request)
  await withTimeout(ended, 5000, 'the node to answer and close')
  return answer
}

async function negotiateToken(): Promise<string> {
  const response = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })
  return ((await response.json()) as { connectionToken: string }).connectionToken
}

async function bystanderStillWorks(): Promise<void> {
  await expect(bystander.invoke('publish', 'guards.check', 1)).resolves.toBeNull()
}

describe('edge guards', () => {
  it('refuses request headers over 16 KB before any handler runs', async () => {
    const answer = await rawHttp(`POST /signalr-hubs/default/negotiate HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`)
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    await bystanderStillWorks()
  })

  it('closes a WebSocket that sends a 200 KB frame with 1009, before buffering it as a message', async () => {
    const token = await negotiateToken()
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/signalr-hubs/default?id=${token}`)
    const code = new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)))
    ws.on('error', () => {})
    await withTimeout(new Promise((resolve) => ws.once('open', resolve)), 5000, 'the socket to open')
    ws.send('x'.repeat(200 * 1024))
    expect(await withTimeout(code, 5000, 'the close')).toBe(1009)
    await bystanderStillWorks()
  })

  it('keeps a flood of unused negotiations small and forgets them after the negotiation timeout', async () => {
    gc()
    const before = process.memoryUsage().heapUsed
    const tokens: string[] = []
    for (let batch = 0; batch < 20; batch++) tokens.push(...(await Promise.all(Array.from({ length: 100 }, negotiateToken))))
    gc()
    // 2,000 pending negotiations: each is an id pair and a timer, about 2.5 KB apiece with this
    // process's own client side; 4 KB apiece would fail.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024)
    await new Promise((resolve) => setTimeout(resolve, 1200))
    // Past the negotiation timeout the oldest token opens nothing: it was forgotten.
    const stale = new WebSocket(`${server.url.replace('http', 'ws')}/signalr-hubs/default?id=${tokens[0]}`)
    const refused = new Promise<number>((resolve) => stale.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)))
    stale.on('error', () => {})
    expect(await withTimeout(refused, 5000, 'the refusal')).toBe(404)
    await bystanderStillWorks()
  })

  it('answers a request whose target is not a valid path with 400, and keeps serving', async () => {
    for (const target of ['//', '//x:99999/a', '//[', 'http://[']) {
      expect(await rawHttp(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /)
    }
    expect(
      await rawHttp('GET //x:99999/signalr-hubs/default HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n'),
    ).toMatch(/^HTTP\/1\.1 400 /)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    await bystanderStillWorks()
  })
})
