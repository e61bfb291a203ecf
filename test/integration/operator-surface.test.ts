/**
 * The operator surface of a real node: who may publish over HTTP and to which subjects, which
 * browser origins may negotiate and open WebSockets, the internal listener, the headers on every
 * answer, what a flood of refused tokens costs in log lines, and the client method names a
 * service may call.
 */
import * as signalR from '@microsoft/signalr'
import { request } from 'node:http'
import WebSocket from 'ws'
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { resolveConfig } from '../../src/config/load-config.js'
import type { ImConfigInput } from '../../src/config/config.js'
import { Hub, HubBase, Subscribe } from '../../src/index.js'
import { createConsoleLogger } from '../../src/logger.js'
import { startServer } from '../../src/server.js'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const EVIL = 'https://evil.example'
const APP = 'https://app.example.com'
const CORS_REFUSED = (origin: string): string =>
  `Cross-origin request refused: the origin '${origin}' is not in this server's allowed origins (IM_CORS_ORIGINS (corsOrigins in im.config.ts)).`
const SERVICE_SUBJECTS = 'im.default.send, im.default.send.*, im.default.groups.*, im.default.watch.>, im.default.disconnect'

/** A hub that takes service messages on a subject of its own, as hub authors write them. */
@Hub({ name: 'news' })
class NewsHub extends HubBase {
  @Subscribe('im.news.flash')
  async flash(payload: { text: string }): Promise<void> {
    await this.clients.all.send('flash', payload.text)
  }
}

/** A test node whose log lines are kept. */
async function loggingServer(config: ImConfigInput = {}) {
  const lines: string[] = []
  const server = await startTestServer({ config, logger: createConsoleLogger({ level: 'debug', write: (line) => void lines.push(line) }) })
  return { server, lines }
}

/** The official client, with the extra headers a browser would send. */
function clientWithHeaders(url: string, headers: Record<string, string>, options: { skipNegotiation?: boolean; withCredentials?: boolean } = {}): signalR.HubConnection {
  return new signalR.HubConnectionBuilder()
    .withUrl(url, {
      transport: signalR.HttpTransportType.WebSockets,
      skipNegotiation: options.skipNegotiation ?? false,
      headers,
      ...(options.withCredentials !== undefined ? { withCredentials: options.withCredentials } : {}),
    })
    .configureLogging(signalR.LogLevel.None)
    .build()
}

/** Status, body and headers of a raw WebSocket upgrade (101 when it opened). */
function upgrade(url: string, headers: Record<string, string>): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return withTimeout(
    new Promise((resolve) => {
      const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers })
      ws.on('unexpected-response', (_req, res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }))
      })
      ws.on('open', () => {
        resolve({ status: 101, body: '', headers: {} })
        ws.close()
      })
      ws.on('error', () => {})
    }),
    5000,
    'the upgrade answer',
  )
}

function publish(base: string, subject: string, payload: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/publish`, { method: 'POST', body: JSON.stringify({ subject, payload }), headers: { 'Content-Type': 'application/json', ...headers } })
}

async function metricsOf(base: string): Promise<string> {
  return (await fetch(`${base}/metrics`)).text()
}

describe('cross-origin browser access', () => {
  it('refuses negotiate and the WebSocket of the official client from an origin not allow-listed, by default', async () => {
    await using server = await startTestServer()
    const negotiated = clientWithHeaders(server.hubUrl(), { Origin: EVIL })
    await expect(negotiated.start()).rejects.toThrow(CORS_REFUSED(EVIL))
    const direct = clientWithHeaders(server.hubUrl(), { Origin: EVIL }, { skipNegotiation: true })
    await expect(direct.start()).rejects.toThrow()
    // Services and native clients send no Origin: unaffected.
    const native = await connectClient(server.hubUrl())
    await expect(native.invoke('publish', 'x', 1)).resolves.toBeNull()
    await native.stop()
    expect(await metricsOf(server.url)).toContain('im_cors_refused_total 2\n')
  })

  it('answers a raw upgrade from another origin with 403 and the setting that allows it', async () => {
    await using server = await startTestServer()
    const answer = await upgrade(server.hubUrl(), { Origin: EVIL })
    expect(answer.status).toBe(403)
    expect(answer.body).toBe(CORS_REFUSED(EVIL))
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
  })

  it('accepts a same-origin upgrade and negotiate', async () => {
    await using server = await startTestServer()
    const own = new URL(server.url).origin
    expect((await upgrade(server.hubUrl(), { Origin: own })).status).toBe(101)
    const negotiate = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: own } })
    expect(negotiate.status).toBe(200)
    expect(negotiate.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('refuses Server-Sent Events and long-polling requests from another origin', async () => {
    await using server = await startTestServer()
    for (const accept of ['text/event-stream', '*/*']) {
      const answer = await fetch(`${server.hubUrl()}?id=anything`, { headers: { Origin: EVIL, Accept: accept } })
      expect([answer.status, await answer.text()]).toEqual([403, CORS_REFUSED(EVIL)])
    }
  })

  it('lets an allow-listed origin connect with credentials', async () => {
    await using server = await startTestServer({ config: { corsOrigins: [APP] } })
    const client = clientWithHeaders(server.hubUrl(), { Origin: APP })
    await client.start()
    await client.stop()
    const negotiate = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: APP } })
    expect(negotiate.headers.get('access-control-allow-origin')).toBe(APP)
    expect(negotiate.headers.get('access-control-allow-credentials')).toBe('true')
    expect((await upgrade(server.hubUrl(), { Origin: EVIL })).status).toBe(403)
  })

  it('with *, lets any origin connect and answers * without credentials', async () => {
    await using server = await startTestServer({ config: { corsOrigins: ['*'] } })
    const client = clientWithHeaders(server.hubUrl(), { Origin: EVIL }, { withCredentials: false })
    await client.start()
    await client.stop()
    const negotiate = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Origin: EVIL } })
    expect(negotiate.headers.get('access-control-allow-origin')).toBe('*')
    expect(negotiate.headers.get('access-control-allow-credentials')).toBeNull()
    expect((await upgrade(server.hubUrl(), { Origin: EVIL })).status).toBe(101)
  })

  it('logs the first refusal of each origin once, naming IM_CORS_ORIGINS, and counts every one', async () => {
    const { server, lines } = await loggingServer()
    await using _ = server
    for (let i = 0; i < 5; i++) await upgrade(server.hubUrl(), { Origin: EVIL })
    await fetch(`${server.hubUrl()}/negotiate`, { method: 'POST', headers: { Origin: 'https://other.example' } })
    const refusals = lines.filter((line) => line.includes('refused a cross-origin request'))
    expect(refusals).toHaveLength(2)
    expect(refusals[0]).toContain(`to allow its origin, add it to IM_CORS_ORIGINS (corsOrigins in im.config.ts) origin="${EVIL}" path="/signalr-hubs/default"`)
    expect(await metricsOf(server.url)).toContain('im_cors_refused_total 6\n')
  })
})

describe('POST /api/publish', () => {
  it('answers 400 to a payload nested too deeply to write, not 503', async () => {
    await using server = await startTestServer()
    const deep = '['.repeat(6000) + ']'.repeat(6000)
    const response = await fetch(`${server.url}/api/publish`, { method: 'POST', body: `{"subject":"im.default.send","payload":{"method":"m","args":${deep}}}` })
    expect(response.status).toBe(400)
  })

  it('refuses forged loopback publishes outside the service subjects with 403 and delivers only the service one', async () => {
    await using server = await startTestServer()
    const client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'notify')
    const seen: string[] = []
    const watched = server.bus.subscribe('>', (message) => void seen.push(message.subject))
    for (const subject of ['im.default.receive.payments.refund', 'im.default.node.abc.claim']) {
      const answer = await publish(server.url, subject, { method: 'notify', userId: 'admin' })
      expect([answer.status, await answer.text()]).toEqual([
        403,
        `Subject '${subject}' is one of IMService's own (client envelopes, node-to-node traffic, client results, authorizer requests, lifecycle events): the publish endpoint never publishes it.`,
      ])
    }
    for (const subject of ['billing.invoice.cancel', '_INBOX.x']) {
      const answer = await publish(server.url, subject, { method: 'notify', userId: 'admin' })
      expect([answer.status, await answer.text()]).toEqual([
        403,
        `Subject '${subject}' is not one the publish endpoint serves: it takes ${SERVICE_SUBJECTS} (what services publish to reach clients); publish other subjects to NATS.`,
      ])
    }
    expect((await publish(server.url, 'im.default.send', { method: 'notify', args: ['ok'] })).status).toBe(202)
    expect(await inbox.next()).toEqual(['ok'])
    expect(seen).toEqual(['im.default.send'])
    watched.unsubscribe()
    expect(await metricsOf(server.url)).toContain('im_publish_refused_total 4\n')
    await client.stop()
  })

  it("publishes to a hub's own @Subscribe subject, and lists it among the subjects it takes", async () => {
    await using server = await startTestServer({ hubs: [DefaultHub, NewsHub] })
    const client = await connectClient(server.hubUrl('/signalr-hubs/news'))
    const inbox = new Inbox(client, 'flash')
    expect((await publish(server.url, 'im.news.flash', { text: 'extra' })).status).toBe(202)
    expect(await inbox.next()).toEqual(['extra'])
    const refused = await publish(server.url, 'im.news.other', {})
    expect(await refused.text()).toContain(`it takes ${SERVICE_SUBJECTS}, im.news.send, im.news.send.*, im.news.groups.*, im.news.watch.>, im.news.disconnect, im.news.flash (`)
    await client.stop()
  })

  it('refuses a cross-site text/plain post with 403 and delivers nothing', async () => {
    await using server = await startTestServer()
    const client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'notify')
    const answer = await fetch(`${server.url}/api/publish`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain', Origin: EVIL },
      body: JSON.stringify({ subject: 'im.default.send', payload: { method: 'notify', args: ['csrf'] } }),
    })
    expect([answer.status, await answer.text()]).toEqual([403, `Publishing from a browser is refused: the origin '${EVIL}' is not in IM_CORS_ORIGINS (corsOrigins in im.config.ts).`])
    expect((await publish(server.url, 'im.default.send', { method: 'notify', args: ['after'] })).status).toBe(202)
    expect(await inbox.next()).toEqual(['after'])
    await client.stop()
  })

  it('refuses a loopback caller that came through a proxy', async () => {
    await using server = await startTestServer()
    const answer = await publish(server.url, 'im.default.send', { method: 'notify' }, { 'X-Forwarded-For': '203.0.113.7' })
    expect(answer.status).toBe(403)
    expect(await answer.text()).toContain('this request came through a proxy (it carries x-forwarded-for)')
  })

  it('on a node bound to every interface, refuses every publish without the API key, loopback included', async () => {
    const config = resolveConfig({ port: 0, host: '0.0.0.0', apiKey: 'the-key', nats: { url: 'nats://127.0.0.1:1' } }, {})
    const server = await startServer({ config: { ...config, nats: { ...config.nats, explicit: false } }, hubs: [DefaultHub] })
    try {
      const without = await publish(server.url, 'im.default.send', { method: 'notify' })
      expect([without.status, await without.text()]).toEqual([403, 'Publishing over HTTP needs the X-Api-Key header: this listener is bound to 0.0.0.0, which other machines can reach.'])
      expect((await publish(server.url, 'im.default.send', { method: 'notify' }, { 'X-Api-Key': 'the-kez' })).status).toBe(403)
      expect((await publish(server.url, 'im.default.send', { method: 'notify' }, { 'X-Api-Key': 'the-key' })).status).toBe(202)
    } finally {
      await server.close()
    }
  })
})

describe('the internal listener', () => {
  it('serves /metrics, /healthz and /api/publish; the public port keeps /healthz only', async () => {
    await using server = await startTestServer({ config: { internalPort: 0 } })
    expect(server.internalUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const internal = server.internalUrl!
    for (const [path, method] of [['/metrics', 'GET'], ['/api/publish', 'POST']] as const) {
      const answer = await fetch(`${server.url}${path}`, { method })
      expect([answer.status, await answer.text()]).toEqual([404, `Not found: ${path} is served on the internal listener (IM_INTERNAL_PORT).`])
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
    expect((await fetch(`${internal}/healthz`)).status).toBe(200)
    expect(await metricsOf(internal)).toContain('im_bus_connected 1')

    const client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'notify')
    expect((await publish(internal, 'im.default.send', { method: 'notify', args: ['internal'] })).status).toBe(202)
    expect(await inbox.next()).toEqual(['internal'])
    await client.stop()

    const hubThere = await fetch(`${internal}/signalr-hubs/default/negotiate`, { method: 'POST' })
    expect([hubThere.status, await hubThere.text()]).toEqual([404, 'Not found: the internal listener serves /healthz, /healthz/live, /healthz/ready, /metrics and /api/publish only.'])
    expect(hubThere.headers.get('x-content-type-options')).toBe('nosniff')
  })

  it('stops the node with the reason when the internal port is taken', async () => {
    await using taken = await startTestServer()
    await expect(startTestServer({ config: { internalPort: taken.port } })).rejects.toThrow(
      expect.objectContaining({ code: 'IM_CONFIG_INVALID', message: expect.stringContaining(`the internal listener cannot listen on 127.0.0.1:${taken.port}: listen EADDRINUSE`) }),
    )
  })
})

describe('response headers', () => {
  it('sends nosniff and no-store on negotiate, 401, 404 and admin answers', async () => {
    await using server = await startTestServer({ config: { jwt: { secret: TEST_JWT_SECRET } } })
    const answers = [
      await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' }),
      await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: 'Bearer nope' } }),
      await fetch(`${server.url}/healthz`),
      await fetch(`${server.url}/metrics`),
      await fetch(`${server.url}/nowhere`),
    ]
    expect(answers.map((a) => a.status)).toEqual([200, 401, 200, 200, 404])
    for (const answer of answers) {
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff')
      expect(answer.headers.get('cache-control')).toBe('no-store')
    }
    const withToken = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${await tokenFor('alice')}` } })
    expect(withToken.status).toBe(200)
    expect(withToken.headers.get('cache-control')).toBe('no-store')
    expect(withToken.headers.get('x-content-type-options')).toBe('nosniff')
  })
})

describe('refused tokens', () => {
  it('cost a few log lines and one summary, and are counted on /metrics', async () => {
    const { server, lines } = await loggingServer({ jwt: { secret: TEST_JWT_SECRET } })
    const refused = (): Promise<void> =>
      new Promise((resolve, reject) => {
        const req = request(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: 'Bearer not.a.token' } }, (res) => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', reject)
        req.end()
      })
    for (let batch = 0; batch < 30; batch++) await Promise.all(Array.from({ length: 10 }, refused))
    const tokenLines = (): string[] => lines.filter((line) => line.includes('refused a request with a bad or missing token'))
    expect(tokenLines()).toHaveLength(10)
    const metrics = await metricsOf(server.url)
    expect(metrics).toContain('im_requests_unauthorized_total 300\n')
    expect(metrics).toContain('im_log_lines_suppressed_total 290\n')
    await server.close()
    expect(tokenLines().at(-1)).toContain('suppressed 290 similar lines in 10000 ms: refused a request with a bad or missing token')
  })
})

describe('client method names from services', () => {
  it('drops a payload whose method holds control characters, markup or too many characters, and delivers the next', async () => {
    const { server, lines } = await loggingServer()
    await using _ = server
    const client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'hello')
    const strays: string[] = []
    const bad = ['a\u0000b', 'refresh\r\nX: 1', '<script>', 'x'.repeat(257)]
    for (const method of bad) client.on(method, () => void strays.push(method))
    for (const method of bad) await server.bus.publish('im.default.send', new TextEncoder().encode(JSON.stringify({ method, args: [1] })))
    await server.bus.publish('im.default.send', new TextEncoder().encode(JSON.stringify({ method: 'hello', args: ['next'] })))
    expect(await inbox.next()).toEqual(['next'])
    expect(strays).toEqual([])
    expect(server.metrics.get('bus_payloads_dropped')).toBe(4)
    const drops = lines.filter((line) => line.includes('dropped a message on im.default.send'))
    expect(drops).toHaveLength(4)
    expect(drops[0]).toContain('"method" must start with a letter')
    // The payload is quoted escaped: no raw CR/LF reaches the log.
    expect(drops.every((line) => !/[\r\n]/.test(line))).toBe(true)
    await client.stop()
  })
})
