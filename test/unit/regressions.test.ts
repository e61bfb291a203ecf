import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it, vi } from 'vitest'
import { EmbeddedBus } from '../../src/bus/embedded-bus.js'
import { ClusterDelivery } from '../../src/lifetime/cluster-delivery.js'
import { LifetimeManager } from '../../src/lifetime/lifetime-manager.js'
import { createConsoleLogger, silentLogger } from '../../src/logger.js'
import { Metrics } from '../../src/metrics.js'
import { AdminEndpoints } from '../../src/server/admin-endpoints.js'
import { PublishGuard } from '../../src/server/publish-guard.js'

/** Regressions found by reading the code: each failed before its fix. */
it('logger redacts secrets inside object fields', () => {
  const lines: string[] = []
  createConsoleLogger({ write: (l) => lines.push(l) }).info('m', { request: { url: '/hub?access_token=abc', headers: { authorization: 'Bearer xyz' } } })
  expect(lines[0]).not.toContain('abc')
  expect(lines[0]).not.toContain('xyz')
})

it('admin publish answers 413 to a body over the limit', async () => {
  const bus = new EmbeddedBus()
  const guard = new PublishGuard({ apiKey: undefined, listener: { host: '127.0.0.1', loopbackOnly: true }, subjects: ['im.default.send'], own: [], isListedOrigin: () => false })
  const admin = new AdminEndpoints({ bus, metrics: new Metrics(), nodeId: 'n', guard, hubs: () => [], maxServicePayloadSize: 1024 })
  const server = createServer((req, res) => void admin.handle(req, res, new URL(req.url ?? '/', 'http://localhost')))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    const body = JSON.stringify({ subject: 'im.default.send', payload: 'x'.repeat(2000) })
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/publish`, { method: 'POST', body })
    expect(response.status).toBe(413)
    expect(await response.text()).toBe('The body is larger than 1024 bytes.')
  } finally {
    server.close()
    await bus.close()
  }
})

it('cluster delivery drops a JSON deliver message that is not an envelope with a warning, not a handler crash', async () => {
  const busErrors = vi.fn()
  const bus = new EmbeddedBus({ logger: { ...silentLogger, error: busErrors } })
  const cluster = new ClusterDelivery({ bus, local: new LifetimeManager(), subject: 'im.t.deliver', logger: silentLogger })
  cluster.start()
  for (const text of ['null', '42', '{"kind":"send"}']) await bus.publish('im.t.deliver', new TextEncoder().encode(text))
  await bus.close()
  expect(busErrors).not.toHaveBeenCalled()
})

it('answers a request whose target is not a valid path with 400, and keeps serving', async () => {
  const { startTestServer } = await import('../support/im-server.js')
  const { createConnection } = await import('node:net')
  await using server = await startTestServer()
  const send = (raw: string): Promise<string> =>
    new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port: server.port }, () => socket.write(raw))
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('close', () => resolve(text))
      socket.on('error', () => resolve(text))
    })
  for (const target of ['//', '//x:99999/a', '//[', 'http://[']) {
    expect(await send(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /)
  }
  expect(await send('GET //x:99999/signalr-hubs/default HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /)
  expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
})

it('admin publish answers 400 to a payload nested too deeply to write, not 503', async () => {
  const { startTestServer } = await import('../support/im-server.js')
  await using server = await startTestServer()
  const deep = '['.repeat(6000) + ']'.repeat(6000)
  const response = await fetch(`${server.url}/api/publish`, { method: 'POST', body: `{"subject":"im.default.send","payload":{"method":"m","args":${deep}}}` })
  expect(response.status).toBe(400)
})

it('refuses service arguments nested deeper than every protocol can carry', async () => {
  const { readSendMessage } = await import('../../src/hub/service-message.js')
  let deep: unknown = 1
  for (let i = 0; i < 70; i++) deep = [deep]
  expect(() => readSendMessage({ method: 'm', args: [deep] })).toThrow('"args" are nested deeper than 64 levels')
  let ok: unknown = 1
  for (let i = 0; i < 60; i++) ok = [ok]
  expect(readSendMessage({ method: 'm', args: [ok] }).args).toEqual([ok])
})
