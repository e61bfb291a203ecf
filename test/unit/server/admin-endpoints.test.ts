import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { BusMessage } from '../../../src/bus/bus.js'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { hubSubjects } from '../../../src/bus/subjects.js'
import { Metrics } from '../../../src/metrics.js'
import { AdminEndpoints } from '../../../src/server/admin-endpoints.js'
import { isLoopbackHost } from '../../../src/server/http-util.js'
import { PublishGuard } from '../../../src/server/publish-guard.js'

const WAIT = { timeout: 2000, interval: 1 } as const
const HUBS = [
  { name: 'default', path: '/signalr-hubs/default', connections: 2 },
  { name: 'chat', path: '/signalr-hubs/chat', connections: 1 },
]
const PUBLISH_BODY = JSON.stringify({ subject: 'im.default.send', payload: { method: 'hello', args: ['world'] } })
const APP = 'https://app.example.com'
const NO_KEY_SET = (why: string): string =>
  `Publishing over HTTP needs an API key: ${why}, and no IM_API_KEY is set. Set IM_API_KEY and send it in X-Api-Key, or publish on the internal listener (IM_INTERNAL_PORT, loopback only).`
const KEY_NEEDED = (why: string): string => `Publishing over HTTP needs the X-Api-Key header: ${why}.`
const WRONG_KEY = 'The X-Api-Key header does not match IM_API_KEY.'
const REMOTE = 'the caller is not on this machine'
const ALL_INTERFACES = 'this listener is bound to 0.0.0.0, which other machines can reach'
/** The service subjects of both hubs, and two `@Subscribe` subjects of the chat hub. */
const SUBJECTS = [...hubSubjects('default').service, ...hubSubjects('chat').service, 'im.chat.announce', 'im.chat.rooms.*']
const OWN = [...hubSubjects('default').own, ...hubSubjects('chat').own]
const OWN_SUBJECT = (subject: string): string =>
  `Subject '${subject}' is one of IMService's own (client envelopes, node-to-node traffic, client results, authorizer requests, lifecycle events): the publish endpoint never publishes it.`
const OUTSIDE = (subject: string): string =>
  `Subject '${subject}' is not one the publish endpoint serves: it takes ${SUBJECTS.join(', ')} (what services publish to reach clients); publish other subjects to NATS.`

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

  interface Setup {
    readonly apiKey?: string
    /** Where the listener is bound; default 127.0.0.1. */
    readonly host?: string
    readonly origins?: readonly string[]
    readonly operatorPathsElsewhere?: boolean
    readonly subjects?: readonly string[]
  }

  function setup(options: Setup = {}) {
    const bus = new EmbeddedBus()
    closers.push(() => bus.close())
    const metrics = new Metrics()
    const host = options.host ?? '127.0.0.1'
    const guard = new PublishGuard({
      apiKey: options.apiKey,
      listener: { host, loopbackOnly: isLoopbackHost(host) },
      subjects: options.subjects ?? SUBJECTS,
      own: OWN,
      isListedOrigin: (origin) => (options.origins ?? []).includes(origin),
    })
    const admin = new AdminEndpoints({
      bus,
      metrics,
      nodeId: 'node-1',
      guard,
      hubs: () => HUBS,
      maxServicePayloadSize: 1024,
      operatorPathsElsewhere: options.operatorPathsElsewhere ?? false,
    })
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
        ready: true,
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

    it('answers 413 to a body over the limit', async () => {
      const { admin, published } = setup()
      const body = JSON.stringify({ subject: 'im.default.send', payload: 'x'.repeat(2000) })
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body })
      expect(response.status).toBe(413)
      expect(await response.text()).toBe('The body is larger than 1024 bytes.')
      expect(published).toEqual([])
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
    it('is refused with 403 when no API key is configured, and says how to open it', async () => {
      const { admin, published, metrics } = setup()
      expect(await callRemote(admin, { body: PUBLISH_BODY })).toMatchObject({ status: 403, body: NO_KEY_SET(REMOTE) })
      expect(await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': 'anything' } })).toMatchObject({
        status: 403,
        body: 'The X-Api-Key header was sent, but no IM_API_KEY is set on this node.',
      })
      expect(published).toEqual([])
      expect(metrics.get('publish_refused')).toBe(2)
    })

    it('is refused with 403 without the X-Api-Key header', async () => {
      const { admin } = setup({ apiKey: 'secret-key' })
      expect(await callRemote(admin, { body: PUBLISH_BODY })).toMatchObject({ status: 403, body: KEY_NEEDED(REMOTE) })
    })

    it.each(['wrong-key!', 'secret-kez', 'secret', '', 'secret-key-and-more', 'x'.repeat(10_000)])('is refused with 403 with the wrong key %j', async (key) => {
      const { admin, published } = setup({ apiKey: 'secret-key' })
      expect(await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': key } })).toMatchObject({ status: 403, body: WRONG_KEY })
      expect(published).toEqual([])
    })

    it('publishes with the right X-Api-Key', async () => {
      const { admin, published } = setup({ apiKey: 'secret-key' })
      const answer = await callRemote(admin, { body: PUBLISH_BODY, headers: { 'x-api-key': 'secret-key' } })
      expect(answer).toMatchObject({ status: 202, body: JSON.stringify({ subject: 'im.default.send' }) })
      await vi.waitFor(() => expect(published).toHaveLength(1), WAIT)
    })
  })

  describe('POST /api/publish on a listener other machines can reach', () => {
    it('refuses loopback callers too when no API key is configured', async () => {
      const { admin, published } = setup({ host: '0.0.0.0' })
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe(NO_KEY_SET(ALL_INTERFACES))
      expect(published).toEqual([])
    })

    it('needs the key from loopback callers, and publishes with it', async () => {
      const { admin, published } = setup({ host: '0.0.0.0', apiKey: 'secret-key' })
      const url = `${await serve(admin)}/api/publish`
      const without = await fetch(url, { method: 'POST', body: PUBLISH_BODY })
      expect([without.status, await without.text()]).toEqual([403, KEY_NEEDED(ALL_INTERFACES)])
      const wrong = await fetch(url, { method: 'POST', body: PUBLISH_BODY, headers: { 'X-Api-Key': 'secret-kez' } })
      expect([wrong.status, await wrong.text()]).toEqual([403, WRONG_KEY])
      const right = await fetch(url, { method: 'POST', body: PUBLISH_BODY, headers: { 'X-Api-Key': 'secret-key' } })
      expect(right.status).toBe(202)
      await vi.waitFor(() => expect(published).toHaveLength(1), WAIT)
    })

    it.each(['::', '192.168.1.10', 'im.example.com'])('counts a listener on %s as reachable', (host) => {
      expect(isLoopbackHost(host)).toBe(false)
    })

    it.each(['127.0.0.1', '127.0.0.2', '::1', '[::1]', 'localhost', 'LocalHost'])('counts a listener on %s as loopback only', (host) => {
      expect(isLoopbackHost(host)).toBe(true)
    })
  })

  describe('POST /api/publish from a browser or through a proxy', () => {
    it('refuses a cross-site text/plain post with 403 and publishes nothing', async () => {
      const { admin, published } = setup({ apiKey: 'secret-key' })
      const response = await fetch(`${await serve(admin)}/api/publish`, {
        method: 'POST',
        body: PUBLISH_BODY,
        headers: { 'Content-Type': 'text/plain', Origin: 'https://evil.example', 'X-Api-Key': 'secret-key' },
      })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe("Publishing from a browser is refused: the origin 'https://evil.example' is not in IM_CORS_ORIGINS (corsOrigins in im.config.ts).")
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(published).toEqual([])
    })

    it('lets an allow-listed origin through', async () => {
      const { admin } = setup({ origins: [APP] })
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY, headers: { Origin: APP } })
      expect(response.status).toBe(202)
    })

    it.each([
      ['x-forwarded-for', '203.0.113.9'],
      ['forwarded', 'for=203.0.113.9'],
      ['x-real-ip', '203.0.113.9'],
    ])('treats a loopback caller carrying %s as not local', async (header, value) => {
      const { admin, published } = setup()
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: PUBLISH_BODY, headers: { [header]: value } })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe(NO_KEY_SET(`this request came through a proxy (it carries ${header})`))
      expect(published).toEqual([])
    })
  })

  describe('POST /api/publish subjects', () => {
    it.each(['im.default.receive.payments.refund', 'im.default.node.abc.claim', 'im.default.deliver', 'im.default.invoke.client', 'im.default.authorize', 'im.default.connected', 'im.chat.disconnected'])(
      "refuses IMService's own subject %s with 403",
      async (subject) => {
        const { admin, published, metrics } = setup()
        const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: JSON.stringify({ subject, payload: { method: 'm' } }) })
        expect([response.status, await response.text()]).toEqual([403, OWN_SUBJECT(subject)])
        expect(published).toEqual([])
        expect(metrics.get('publish_refused')).toBe(1)
      },
    )

    it("refuses IMService's own subjects even under a hub's broad @Subscribe pattern", async () => {
      const { admin, published } = setup({ subjects: ['im.chat.>'] })
      const base = await serve(admin)
      const own = await fetch(`${base}/api/publish`, { method: 'POST', body: JSON.stringify({ subject: 'im.chat.deliver', payload: {} }) })
      expect([own.status, await own.text()]).toEqual([403, OWN_SUBJECT('im.chat.deliver')])
      expect((await fetch(`${base}/api/publish`, { method: 'POST', body: JSON.stringify({ subject: 'im.chat.anything', payload: {} }) })).status).toBe(202)
      await vi.waitFor(() => expect(published.map((m) => m.subject)).toEqual(['im.chat.anything']), WAIT)
    })

    it.each([
      'im.default.send.user.extra',
      'im.default.watch',
      'im.other.send',
      'billing.invoice.cancel',
      '_INBOX.x',
    ])('refuses %s with 403 and the subjects it takes', async (subject) => {
      const { admin, published, metrics } = setup()
      const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: JSON.stringify({ subject, payload: { method: 'm' } }) })
      expect(response.status).toBe(403)
      expect(await response.text()).toBe(OUTSIDE(subject))
      expect(published).toEqual([])
      expect(metrics.get('publish_refused')).toBe(1)
    })

    it.each([
      'im.default.send',
      'im.default.send.user',
      'im.default.send.group',
      'im.default.groups.add',
      'im.default.watch.orders',
      'im.default.watch.orders.eu',
      'im.chat.send.client',
      'im.chat.announce',
      'im.chat.rooms.lobby',
    ])(
      'publishes to the service subject %s',
      async (subject) => {
        const { admin, published } = setup()
        const response = await fetch(`${await serve(admin)}/api/publish`, { method: 'POST', body: JSON.stringify({ subject, payload: { method: 'm' } }) })
        expect(response.status).toBe(202)
        await vi.waitFor(() => expect(published.map((m) => m.subject)).toEqual([subject]), WAIT)
      },
    )
  })

  describe('with an internal listener', () => {
    it.each(['/metrics', '/api/publish'])('answers %s with 404 naming the internal listener, and /healthz still', async (path) => {
      const { admin, published } = setup({ operatorPathsElsewhere: true })
      const base = await serve(admin)
      const response = await fetch(`${base}${path}`, { method: path === '/metrics' ? 'GET' : 'POST', ...(path === '/metrics' ? {} : { body: PUBLISH_BODY }) })
      expect(response.status).toBe(404)
      expect(await response.text()).toBe(`Not found: ${path} is served on the internal listener (IM_INTERNAL_PORT).`)
      expect((await fetch(`${base}/healthz`)).status).toBe(200)
      expect(published).toEqual([])
    })
  })
})
