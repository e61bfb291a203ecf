import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { BusMessage } from '../../../src/bus/bus.js'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { Metrics } from '../../../src/metrics.js'
import { AdminEndpoints } from '../../../src/server/admin-endpoints.js'
import type { AdminEndpointsOptions } from '../../../src/server/admin-endpoints.js'

const WAIT = { timeout: 2000, interval: 1 } as const
const HUBS = [
  { name: 'default', path: '/signalr-hubs/default', connections: 2 },
  { name: 'chat', path: '/signalr-hubs/chat', connections: 1 },
]
const PUBLISH_BODY = JSON.stringify({ subject: 'im.default.send', payload: { method: 'hello', args: ['world'] } })
const KEY_REQUIRED = 'A valid X-Api-Key header is required.'
const LOOPBACK_ONLY = 'Publishing over HTTP is open to loopback callers only; set IM_API_KEY to open it to others.'

interface Answer {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** A request from another machine, which no loopback server can produce: method, headers, body, address. */
function remoteRequest(options: { method?: string; headers?: Record<string, string>; body?: string; address?: string }): IncomingMessage {
  const req = Readable.from(options.body === undefined ? [] : [Buffer.from(options.body)]) as unknown as Record<string, unknown>
  req.method = options.method ?? 'POST'
  req.headers = options.headers ?? {}
  req.socket = { remoteAddress: options.address ?? '10.1.2.3' }
  return req as unknown as IncomingMessage
}

/** A response that captures writeHead and end; `answer` resolves at end. */
function capturingResponse(): { res: ServerResponse; answer: Promise<Answer> } {
  let status = 0
  let headers: Record<string, string> = {}
  let done!: (answer: Answer) => void
  const answer = new Promise<Answer>((resolve) => (done = resolve))
  const res = {
    writeHead(code: number, head: Record<string, string> = {}) {
      status = code
      headers = head
      return res
    },
    end(body: string = '') {
      done({ status, headers, body })
      return res
    },
  }
  return { res: res as unknown as ServerResponse, answer }
}

describe('AdminEndpoints', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.allSettled(closers.splice(0).map((close) => close()))
  })

  function setup(overrides: Partial<AdminEndpointsOptions> = {}) {
    const bus = new EmbeddedBus()
    closers.push(() => bus.close())
    const metrics = new Metrics()
    const admin = new AdminEndpoints({ bus, metrics, nodeId: 'node-1', apiKey: undefined, hubs: () => HUBS, maxPublishBytes: 1024, ...overrides })
    const published: BusMessage[] = []
    bus.subscribe('im.>', (message) => void published.push(message))
    return { bus, metrics, admin, published }
  }

  /** A real HTTP server on 127.0.0.1:0 in front of the endpoints; 404 for other paths. */
  async function serve(admin: AdminEndpoints): Promise<string> {
    const server: Server = createServer((req, res) => {
      if (!admin.handle(req, res, new URL(req.url ?? '/', 'http://localhost'))) res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  function callRemote(admin: AdminEndpoints, request: Parameters<typeof remoteRequest>[0]): Promise<Answer> {
    const { res, answer } = capturingResponse()
    expect(admin.handle(remoteRequest(request), res, new URL('http://im.example.com/api/publish'))).toBe(true)
    return answer
  }

  describe('GET /healthz', () => {
    it('answers 200 with the node, the bus status and the connections per hub', async () => {
      const { admin } = setup()
      const response = await fetch(`${await serve(admin)}/healthz`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('application/json')
      expect(await response.json()).toEqual({
        status: 'ok',
        node: 'node-1',
        bus: { kind: 'embedded', state: 'connected' },
        connections: 3,
        hubs: HUBS,
      })
    })
  })

  describe('GET /metrics', () => {
    it('answers Prometheus text with connections per hub, the bus state and every counter', async () => {
      const { admin, metrics } = setup()
      metrics.inc('messages_delivered', 5)
      metrics.inc('payloads_dropped')
      const response = await fetch(`${await serve(admin)}/metrics`)
      expect(response.status).toBe(200)
      expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4')
      expect(await response.text()).toBe(
        [
          'im_connections{hub="default"} 2',
          'im_connections{hub="chat"} 1',
          'im_bus_connected 1',
          'im_messages_delivered_total 5',
          'im_payloads_dropped_total 1',
          '',
        ].join('\n'),
      )
    })

    it('reports the bus as not connected once it is closed', async () => {
      const { admin, bus } = setup()
      await bus.close()
      const text = await (await fetch(`${await serve(admin)}/metrics`)).text()
      expect(text.split('\n')).toContain('im_bus_connected 0')
    })
  })

  it('leaves other paths to the caller', () => {
    const { admin } = setup()
    const { res } = capturingResponse()
    expect(admin.handle(remoteRequest({ method: 'GET' }), res, new URL('http://localhost/negotiate'))).toBe(false)
  })

  describe('POST /api/publish from loopback', () => {
    it('publishes the payload as JSON to the subject and answers 202', async () => {
      const { admin, published } = setup()
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY })
      expect(response.status).toBe(202)
      expect(await response.json()).toEqual({ subject: 'im.default.send' })
      await vi.waitFor(() => expect(published).toHaveLength(1), WAIT)
      expect(published[0]!.subject).toBe('im.default.send')
      expect(JSON.parse(new TextDecoder().decode(published[0]!.data))).toEqual({ method: 'hello', args: ['world'] })
    })

    it('needs no API key even when one is configured', async () => {
      const { admin } = setup({ apiKey: 'secret-key' })
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY })
      expect(response.status).toBe(202)
    })

    it.each(['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1'])('treats %s as loopback', async (address) => {
      const { admin } = setup({ apiKey: 'secret-key' })
      expect((await callRemote(admin, { body: PUBLISH_BODY, address })).status).toBe(202)
    })

    it('refuses other methods with 405 and Allow: POST', async () => {
      const { admin } = setup()
      const response = await fetch(`${await serve(admin)}/api/publish`)
      expect(response.status).toBe(405)
      expect(response.headers.get('allow')).toBe('POST')
    })

    it.each([
      ['a body that is not JSON', 'not json', 'The body must be JSON: {"subject": "...", "payload": {...}}.'],
      ['a subject that is not a string', JSON.stringify({ subject: 42, payload: {} }), 'Invalid subject: "subject" must be a string.'],
      ['a wildcard subject', JSON.stringify({ subject: 'im.>', payload: {} }), "Invalid subject: topic must not contain the wildcards '*' or '>'."],
      ['a missing payload', JSON.stringify({ subject: 'im.default.send' }), '"payload" is missing.'],
    ])('refuses %s with 400 and publishes nothing', async (_, body, text) => {
      const { admin, bus } = setup()
      const publish = vi.spyOn(bus, 'publish')
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body })
      expect(response.status).toBe(400)
      expect(await response.text()).toBe(text)
      expect(publish).not.toHaveBeenCalled()
    })

    it('answers 503 with the reason when the bus refuses the message', async () => {
      const { admin, bus } = setup()
      await bus.close()
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY })
      expect(response.status).toBe(503)
      expect(await response.text()).toBe('the bus is closed')
    })
  })

  describe('POST /api/publish from another machine', () => {
    it('is refused with 403 when no API key is configured, even if the caller sends one', async () => {
      const { admin, published } = setup()
      expect(await callRemote(admin, { body: PUBLISH_BODY })).toMatchObject({ status: 403, body: LOOPBACK_ONLY })
      expect(await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': 'anything' } })).toMatchObject({ status: 403, body: LOOPBACK_ONLY })
      expect(published).toEqual([])
    })

    it('is refused with 403 without the X-Api-Key header', async () => {
      const { admin } = setup({ apiKey: 'secret-key' })
      expect(await callRemote(admin, { body: PUBLISH_BODY })).toMatchObject({ status: 403, body: KEY_REQUIRED })
    })

    it.each(['wrong-key!', 'secret-kez', 'secret', ''])('is refused with 403 with the wrong key %j', async (key) => {
      const { admin, published } = setup({ apiKey: 'secret-key' })
      expect(await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': key } })).toMatchObject({ status: 403, body: KEY_REQUIRED })
      expect(published).toEqual([])
    })

    it('publishes with the right X-Api-Key', async () => {
      const { admin, published } = setup({ apiKey: 'secret-key' })
      const answer = await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': 'secret-key' } })
      expect(answer).toMatchObject({ status: 202, body: JSON.stringify({ subject: 'im.default.send' }) })
      await vi.waitFor(() => expect(published).toHaveLength(1), WAIT)
    })
  })
})
