/**
 * The browser suite: a page in headless Chromium, built with the official browser bundles of
 * @microsoft/signalr and @microsoft/signalr-protocol-msgpack, served from an origin of its own,
 * connects to an IMService node over each transport and protocol, receives what a service
 * publishes on NATS, and publishes to the services; one page runs the @microsoft/signalr 3.1 bundles
 * (MessagePack over long polling). Needs Debian's chromium (see chromium.ts).
 */
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { Browser } from 'playwright-core'
import { afterAll, describe, expect, it } from 'vitest'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { TestService } from '../support/service.js'
import type { Listener } from '../support/service.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'
import { launchChromium } from './chromium.js'
import { HubPage } from './hub-page.js'
import type { PageConnectOptions, ProtocolName, TransportName } from './hub-page.js'
import { startStaticServer } from './static-server.js'
import type { StaticServer } from './static-server.js'

const require = createRequire(import.meta.url)
const JS = 'text/javascript; charset=utf-8'

let browser: Browser | undefined
let nats: NatsServer | undefined
let server: TestServer | undefined
let service: TestService | undefined
let site: StaticServer | undefined
let connected: Listener | undefined
let starting: Promise<void> | undefined

/**
 * Starts Chromium, nats-server, the node, a service and the page's site, once, on first use by a
 * test. Started inside the tests rather than in a hook so that a failure (Chromium missing above
 * all) fails every test with its message, where a failing hook would report them as skipped.
 */
function started(): Promise<void> {
  return (starting ??= startAll())
}

/**
 * page.html and the official browser bundles it loads: the current ones at /, those of
 * @microsoft/signalr 3.1 at /v3/. The 3.1 MessagePack bundle expects msgpack5 as a global, which
 * its frontends load first (here served in front of it, as a bundler would).
 */
function siteFiles(): Parameters<typeof startStaticServer>[0] {
  const page = { file: fileURLToPath(new URL('page.html', import.meta.url)), contentType: 'text/html; charset=utf-8' }
  const v3msgpack = require.resolve('signalr-3-msgpack/dist/browser/signalr-protocol-msgpack.js')
  return {
    '/': page,
    '/signalr.js': { file: require.resolve('@microsoft/signalr/dist/browser/signalr.js'), contentType: JS },
    '/signalr-protocol-msgpack.js': { file: require.resolve('@microsoft/signalr-protocol-msgpack/dist/browser/signalr-protocol-msgpack.js'), contentType: JS },
    '/v3/': page,
    '/v3/signalr.js': { file: require.resolve('signalr-3/dist/browser/signalr.js'), contentType: JS },
    '/v3/signalr-protocol-msgpack.js': { file: [createRequire(v3msgpack).resolve('msgpack5/dist/msgpack5.js'), v3msgpack], contentType: JS },
  }
}

async function startAll(): Promise<void> {
  // Chromium first: when it is missing, fail at once with how to install it.
  browser = await launchChromium()
  nats = await startNatsServer()
  site = await startStaticServer(siteFiles())
  // The page's origin is the one allow-listed origin, as a deployment lists its frontend's.
  server = await startTestServer({ natsUrl: nats.url, config: { jwt: { secret: TEST_JWT_SECRET }, corsOrigins: [new URL(site.url).origin] } })
  service = await TestService.connect(nats.url)
  connected = await service.listen('im.default.connected')
  // Two loopback ports are two origins: negotiate and every SSE / long-polling request is CORS.
  if (new URL(site.url).origin === new URL(server.url).origin) throw new Error('the page and the node must have different origins')
}

afterAll(async () => {
  // Each disposal runs even when another fails, and even when start-up stopped half way.
  const results = await Promise.allSettled([browser?.close(), site?.close(), service?.[Symbol.asyncDispose]()])
  results.push(...(await Promise.allSettled([server?.close()])))
  results.push(...(await Promise.allSettled([nats?.stop()])))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
})

/** The `im.default.connected` event of one connection: the transport as the server saw it. */
async function connectedEvent(connectionId: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const remaining = deadline - Date.now()
    if (remaining <= 0) throw new Error(`no connected event for ${connectionId} within ${timeoutMs} ms`)
    const event = (await connected!.next(remaining)).json as Record<string, unknown>
    if (event.connectionId === connectionId) return event
  }
}

/** A page with a started connection, opened on first use; every test of a describe shares it. */
class PageSession {
  private page: HubPage | undefined
  private connecting: Promise<{ page: HubPage; connectionId: string }> | undefined

  constructor(private readonly options: Omit<PageConnectOptions, 'url' | 'accessToken'> & { readonly userId: string; readonly path?: string }) {}

  /** Connects on the first call; a failure to connect fails every test that uses the session. */
  connect(): Promise<{ page: HubPage; connectionId: string }> {
    return (this.connecting ??= this.open())
  }

  async close(): Promise<void> {
    await this.page?.close()
  }

  private async open(): Promise<{ page: HubPage; connectionId: string }> {
    await started()
    const { userId, path, ...options } = this.options
    this.page = await HubPage.open(browser!, site!.url, path)
    const connectionId = await this.page.connect({ ...options, url: server!.hubUrl(), accessToken: await tokenFor(userId) })
    return { page: this.page, connectionId }
  }
}

const broadcast = { text: 'héllo, 世界', n: 42, ratio: 0.5, list: [1, 'two', null], yes: true }

// SSE carries text only, so MessagePack (binary) is not offered over it, as in ASP.NET Core.
describe.each<[TransportName, ProtocolName]>([
  ['WebSockets', 'json'],
  ['WebSockets', 'messagepack'],
  ['ServerSentEvents', 'json'],
  ['LongPolling', 'json'],
  ['LongPolling', 'messagepack'],
])('a browser page on %s with %s', (transport, protocol) => {
  const userId = `e2e-${transport}-${protocol}`
  const topic = `e2e.${transport}.${protocol}`
  const session = new PageSession({ transport, protocol, userId })
  afterAll(() => session.close())

  it('connects across origins, and the server sees that transport and the token user', async () => {
    const { connectionId } = await session.connect()
    expect(await connectedEvent(connectionId)).toMatchObject({ connectionId, userId, transport })
  })

  it('receives a broadcast and a message for its user, with their values intact', async () => {
    const { page } = await session.connect()
    await service!.publish('im.default.send', { method: 'hello', args: ['everyone', broadcast] })
    expect(await page.nextHello()).toEqual(['everyone', broadcast])
    await service!.publish('im.default.send.user', { userId, method: 'hello', args: [`only ${userId}`, 7] })
    expect(await page.nextHello()).toEqual([`only ${userId}`, 7])
  })

  it('invokes publish, and the services get the envelope with its user and arguments', async () => {
    const { page, connectionId } = await session.connect()
    const listener = await service!.listen(`im.default.receive.${topic}`)
    const payload = { from: 'the page', transport, protocol, items: [1, 2.5, 'three'], nested: { ok: true } }
    await page.publish(topic, payload)
    expect((await listener.next()).json).toMatchObject({ hub: 'default', method: 'publish', topic, args: [payload], connectionId, userId })
  })
})

// The 3.1 client posts MessagePack as text/plain;charset=UTF-8 (XMLHttpRequest): the node reads a
// body by the connection's protocol, whatever its Content-Type, as ASP.NET Core does.
describe('a browser page with the @microsoft/signalr 3.1 bundles, MessagePack over long polling', () => {
  const userId = 'e2e-v3-LongPolling-messagepack'
  const session = new PageSession({ transport: 'LongPolling', protocol: 'messagepack', userId, path: '/v3/' })
  afterAll(() => session.close())

  it('connects, receives a broadcast and a user message, and publishes to the services', async () => {
    const { page, connectionId } = await session.connect()
    expect(await connectedEvent(connectionId)).toMatchObject({ connectionId, userId, transport: 'LongPolling' })
    await service!.publish('im.default.send.user', { userId, method: 'hello', args: ['v3', broadcast] })
    expect(await page.nextHello()).toEqual(['v3', broadcast])
    const listener = await service!.listen('im.default.receive.e2e.v3')
    const payload = { from: 'a 3.1 page', items: [1, 2.5, 'three'], text: 'héllo ✓' }
    await page.publish('e2e.v3', payload)
    expect((await listener.next()).json).toMatchObject({ topic: 'e2e.v3', args: [payload], connectionId, userId })
  })
})

describe('a browser page whose WebSocket is blocked, with the default transports', () => {
  const userId = 'e2e-blocked-websocket'
  const session = new PageSession({ protocol: 'json', userId, breakWebSocket: true })
  afterAll(() => session.close())

  // The server's own account of the transport (its connected event on NATS), not the client's internals.
  it('falls back to Server-Sent Events', async () => {
    const { connectionId } = await session.connect()
    expect(await connectedEvent(connectionId)).toMatchObject({ connectionId, userId, transport: 'ServerSentEvents' })
  })

  it('still receives a broadcast and publishes to the services', async () => {
    const { page, connectionId } = await session.connect()
    await service!.publish('im.default.send', { method: 'hello', args: ['after fallback'] })
    expect(await page.nextHello()).toEqual(['after fallback'])
    const listener = await service!.listen('im.default.receive.e2e.fallback')
    await page.publish('e2e.fallback', { n: 1 })
    expect((await listener.next()).json).toMatchObject({ topic: 'e2e.fallback', args: [{ n: 1 }], connectionId, userId })
  })
})

describe('a browser page from an origin that is not allow-listed', () => {
  it.each<TransportName>(['WebSockets', 'LongPolling'])('cannot connect over %s, and the node counts the refusal', async (transport) => {
    await started()
    const refusals = async (): Promise<number> => Number(/^im_cors_refused_total (\d+)$/m.exec(await (await fetch(`${server!.url}/metrics`)).text())?.[1] ?? 0)
    const before = await refusals()
    // Another port is another origin, and only the first site's origin is allowed.
    await using other = await startStaticServer(siteFiles())
    const page = await HubPage.open(browser!, other.url)
    try {
      await expect(page.connect({ transport, protocol: 'json', url: server!.hubUrl(), accessToken: await tokenFor('e2e-foreign') })).rejects.toThrow(/negotiat/i)
    } finally {
      await page.close()
    }
    expect(await refusals()).toBeGreaterThan(before)
  })
})
