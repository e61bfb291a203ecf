import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it, vi } from 'vitest'
import { EmbeddedBus } from '../../src/bus/embedded-bus.js'
import { arityOf } from '../../src/hub/parameters.js'
import { ClusterDelivery } from '../../src/lifetime/cluster-delivery.js'
import { LifetimeManager } from '../../src/lifetime/lifetime-manager.js'
import { createConsoleLogger, silentLogger } from '../../src/logger.js'
import { Metrics } from '../../src/metrics.js'
import { AdminEndpoints } from '../../src/server/admin-endpoints.js'

const fromSource = (source: string): Function => new Function(`return (${source})`)() as Function

/** Regressions found by reading the code: each failed before its fix. */
it.each([
  ["function (a, b = ')', c) {}", 1, 3],
  ["function (a, b = '(', c) {}", 1, 3],
])('arityOf counts parameters whose default holds a bracket in a literal: %s', (source, min, max) => {
  expect(arityOf(fromSource(source))).toEqual({ min, max })
})

it('logger redacts secrets inside object fields', () => {
  const lines: string[] = []
  createConsoleLogger({ write: (l) => lines.push(l) }).info('m', { request: { url: '/hub?access_token=abc', headers: { authorization: 'Bearer xyz' } } })
  expect(lines[0]).not.toContain('abc')
  expect(lines[0]).not.toContain('xyz')
})

it('admin publish answers 413 to a body over the limit', async () => {
  const bus = new EmbeddedBus()
  const admin = new AdminEndpoints({ bus, metrics: new Metrics(), nodeId: 'n', apiKey: undefined, hubs: () => [], maxPublishBytes: 1024 })
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
