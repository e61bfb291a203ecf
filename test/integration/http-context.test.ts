/**
 * `this.context.http`, ASP.NET Core's `Context.GetHttpContext()`: the official client over every
 * transport and both protocols reads back, through hub methods written as ASP.NET's functional
 * tests write them (GetHeader, GetCookie, GetNumRedirects), what it sent when it opened the
 * connection; the access token is never among it.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoHub, ForgetfulHub } from '../fixtures/hubs/test-hubs.js'
import { RawHubClient } from '../support/raw-hub-client.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType
let server: TestServer
let token: string

interface HttpContext {
  readonly headers: Record<string, string>
  readonly query: Record<string, string>
  readonly cookies: Record<string, string>
  readonly path: string
  readonly remoteAddress?: string
  readonly transport: string
}

beforeAll(async () => {
  server = await startTestServer({ hubs: [EchoHub, ForgetfulHub], config: { jwt: { secret: TEST_JWT_SECRET } } })
  token = await tokenFor('carol')
})

afterAll(async () => {
  await server?.close()
})

async function connect(transport: signalR.HttpTransportType, protocol: signalR.IHubProtocol, url: string): Promise<signalR.HubConnection> {
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(url, {
      transport,
      accessTokenFactory: () => token,
      headers: { 'X-Tenant': 'acme', Cookie: 'theme=dark; greeting=hello%20world; theme=light' },
    })
    .withHubProtocol(protocol)
    .configureLogging(signalR.LogLevel.None)
    .build()
  await connection.start()
  return connection
}

describe.each([
  ['WebSockets', WebSockets, 'JSON', new signalR.JsonHubProtocol()],
  ['WebSockets', WebSockets, 'MessagePack', new MessagePackHubProtocol()],
  // Server-Sent Events carry text only: the client refuses MessagePack there itself.
  ['ServerSentEvents', ServerSentEvents, 'JSON', new signalR.JsonHubProtocol()],
  ['LongPolling', LongPolling, 'JSON', new signalR.JsonHubProtocol()],
  ['LongPolling', LongPolling, 'MessagePack', new MessagePackHubProtocol()],
])('the request of a %s connection (%s)', (name, transport, _protocolName, protocol) => {
  let connection: signalR.HubConnection
  beforeAll(async () => {
    connection = await connect(transport, protocol, server.hubUrl('/hubs/echo?numRedirects=3&lang=en'))
  })
  afterAll(async () => {
    await connection?.stop()
  })

  it('gives hub code the headers the client set', async () => {
    await expect(connection.invoke('getHeader', 'X-Tenant')).resolves.toBe('acme')
    await expect(connection.invoke('getHeader', 'x-missing')).resolves.toBeNull()
  })

  it('gives hub code the cookies, the first of a repeated name, percent-decoded', async () => {
    await expect(connection.invoke('getCookie', 'theme')).resolves.toBe('dark')
    await expect(connection.invoke('getCookie', 'greeting')).resolves.toBe('hello world')
    await expect(connection.invoke('getCookie', 'missing')).resolves.toBeNull()
  })

  it('gives hub code the query parameters of the URL', async () => {
    await expect(connection.invoke('getNumRedirects')).resolves.toBe(3)
  })

  it('names the path and the transport, and never shows the access token or the connection token', async () => {
    const http = (await connection.invoke('getHttpContext')) as HttpContext
    expect(http).toMatchObject({ path: '/hubs/echo', transport: name, query: { numRedirects: '3', lang: 'en' } })
    expect(http.remoteAddress).toMatch(/127\.0\.0\.1/)
    expect(JSON.stringify(http)).not.toContain(token)
    expect(Object.keys(http.query).map((key) => key.toLowerCase())).not.toContain('access_token')
    expect(Object.keys(http.query).map((key) => key.toLowerCase())).not.toContain('id')
    // WebSockets and long polling send the token as Authorization in Node; SSE in the query.
    if (name !== 'ServerSentEvents') expect(http.headers.authorization).toBe('[redacted]')
    else expect(http.headers.authorization).toBeUndefined()
  })
})

describe('the request of a connection', () => {
  it('leaves access_token and id out of the query whatever their case, and keeps the rest as sent', async () => {
    const raw = await RawHubClient.connect(server.hubUrl(`/hubs/echo?Access_Token=${token}&a=1&a=2&space=a+b`))
    raw.send({ type: 1, invocationId: '1', target: 'getHttpContext', arguments: [] })
    const { result } = await raw.completion('1')
    const http = result as HttpContext
    expect(http.query).toEqual({ a: '1,2', space: 'a b' })
    expect(JSON.stringify(http)).not.toContain(token)
    await raw.close()
  })

  it('of long polling is the first poll: later polls change nothing', async () => {
    const connection = await connect(LongPolling, new signalR.JsonHubProtocol(), server.hubUrl('/hubs/echo'))
    // Each answer ends a poll and the client sends the next, with a new `_` cache buster.
    const first = (await connection.invoke('getHttpContext')) as HttpContext
    await connection.invoke('echo', 'one more poll')
    const later = (await connection.invoke('getHttpContext')) as HttpContext
    expect(first.query._).toMatch(/^\d+$/)
    expect(later).toEqual(first)
    await connection.stop()
  })

  it('lets an @Authorize policy decide by a header', async () => {
    const acme = await connect(WebSockets, new signalR.JsonHubProtocol(), server.hubUrl('/hubs/echo'))
    await expect(acme.invoke('tenantData')).resolves.toBe('acme data')
    await acme.stop()
    const other = await RawHubClient.connect(server.hubUrl('/hubs/echo'))
    other.send({ type: 1, invocationId: '1', target: 'tenantData', arguments: [] })
    await expect(other.completion('1')).resolves.toMatchObject({ error: "Failed to invoke 'tenantData' because user is unauthorized" })
    await other.close()
  })

  it('is empty on a hub that does not keep it, over every transport', async () => {
    for (const transport of [WebSockets, ServerSentEvents, LongPolling]) {
      const connection = await connect(transport, new signalR.JsonHubProtocol(), server.hubUrl('/signalr-hubs/forgetful?lang=en'))
      await expect(connection.invoke('http')).resolves.toEqual({ headers: {}, query: {}, cookies: {}, path: '', transport: signalR.HttpTransportType[transport] })
      await connection.stop()
    }
  })
})
