/**
 * Transports per hub (`@Hub({ transports })`, ASP.NET Core's MapHub option Transports) and for
 * every hub (`hubs.transports`): negotiate offers only those, the official client picks among
 * them or fails with its own error, and a request for another transport is refused with
 * ASP.NET Core's 404 and text, after the connection lookup as there.
 */
import * as signalR from '@microsoft/signalr'
import WebSocket from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoHub, LongPollingOnlyHub } from '../fixtures/hubs/test-hubs.js'
import { buildClient, connectClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType
const LONG_POLLING_ONLY = '/signalr-hubs/long-polling-only'
let server: TestServer

beforeAll(async () => {
  server = await startTestServer({ hubs: [EchoHub, LongPollingOnlyHub] })
})

afterAll(async () => {
  await server?.close()
})

async function negotiate(path: string): Promise<{ connectionToken: string; availableTransports: unknown[] }> {
  const response = await fetch(`${server.url}${path}/negotiate?negotiateVersion=1`, { method: 'POST' })
  return (await response.json()) as { connectionToken: string; availableTransports: unknown[] }
}

/** Status and body of a refused WebSocket upgrade. */
function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'))
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.on('open', () => {
      ws.close()
      reject(new Error('the upgrade was accepted'))
    })
    ws.on('error', () => {})
  })
}

describe('a hub restricted to long polling', () => {
  it('negotiates only LongPolling', async () => {
    const body = await negotiate(LONG_POLLING_ONLY)
    expect(body.availableTransports).toEqual([{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }])
  })

  it('serves an official client that allows every transport over long polling', async () => {
    const client = await connectClient(server.hubUrl(LONG_POLLING_ONLY), { transport: WebSockets | ServerSentEvents | LongPolling })
    await expect(client.invoke('transport')).resolves.toBe('LongPolling')
    await client.stop()
  })

  it('fails an official client limited to WebSockets with the client own error', async () => {
    const client = buildClient(server.hubUrl(LONG_POLLING_ONLY), { transport: WebSockets })
    await expect(client.start()).rejects.toThrow(
      "Unable to connect to the server with any of the available transports. LongPolling failed: Error: 'LongPolling' is disabled by the client.",
    )
  })

  it('refuses a WebSocket upgrade without negotiate with 404 and ASP.NET Core text', async () => {
    await expect(refusedUpgrade(server.hubUrl(LONG_POLLING_ONLY))).resolves.toEqual({ status: 404, body: 'WebSockets transport not supported by this end point type' })
  })

  it('refuses a WebSocket upgrade for a negotiated connection the same way, and leaves the connection usable', async () => {
    const { connectionToken } = await negotiate(LONG_POLLING_ONLY)
    await expect(refusedUpgrade(`${server.hubUrl(LONG_POLLING_ONLY)}?id=${connectionToken}`)).resolves.toEqual({
      status: 404,
      body: 'WebSockets transport not supported by this end point type',
    })
    const poll = await fetch(`${server.hubUrl(LONG_POLLING_ONLY)}?id=${connectionToken}`)
    expect(poll.status).toBe(200)
    await fetch(`${server.hubUrl(LONG_POLLING_ONLY)}?id=${connectionToken}`, { method: 'DELETE' })
  })

  it('refuses a Server-Sent Events request with 404 and ASP.NET Core text', async () => {
    const { connectionToken } = await negotiate(LONG_POLLING_ONLY)
    const response = await fetch(`${server.hubUrl(LONG_POLLING_ONLY)}?id=${connectionToken}`, { headers: { Accept: 'text/event-stream' } })
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/)
    await expect(response.text()).resolves.toBe('ServerSentEvents transport not supported by this end point type')
  })

  it('looks the connection up first, as ASP.NET Core: an unknown id is "No Connection with that ID"', async () => {
    await expect(refusedUpgrade(`${server.hubUrl(LONG_POLLING_ONLY)}?id=unknown`)).resolves.toEqual({ status: 404, body: 'No Connection with that ID' })
    const missing = await fetch(server.hubUrl(LONG_POLLING_ONLY), { headers: { Accept: 'text/event-stream' } })
    expect(missing.status).toBe(400)
    await expect(missing.text()).resolves.toBe('Connection ID required')
  })

  it('leaves the other hubs of the node on every transport', async () => {
    const body = await negotiate('/hubs/echo')
    expect(body.availableTransports.map((t) => (t as { transport: string }).transport)).toEqual(['WebSockets', 'ServerSentEvents', 'LongPolling'])
    const client = await connectClient(server.hubUrl('/hubs/echo'), { transport: WebSockets })
    await expect(client.invoke('whoAmI')).resolves.toMatchObject({ transport: 'WebSockets' })
    await client.stop()
  })
})

describe('hubs.transports', () => {
  let node: TestServer
  beforeAll(async () => {
    node = await startTestServer({ hubs: [EchoHub, LongPollingOnlyHub], config: { hubs: { transports: ['WebSockets', 'ServerSentEvents'] } } })
  })
  afterAll(async () => {
    await node?.close()
  })

  it('sets the transports of hubs that name none; a hub naming its own keeps them', async () => {
    const echo = await fetch(`${node.url}/hubs/echo/negotiate?negotiateVersion=1`, { method: 'POST' })
    expect(((await echo.json()) as { availableTransports: unknown[] }).availableTransports).toEqual([
      { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
      { transport: 'ServerSentEvents', transferFormats: ['Text'] },
    ])
    const own = await fetch(`${node.url}${LONG_POLLING_ONLY}/negotiate?negotiateVersion=1`, { method: 'POST' })
    expect(((await own.json()) as { availableTransports: unknown[] }).availableTransports).toEqual([{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }])
  })

  it('refuses a first long poll on a hub without long polling', async () => {
    const { connectionToken } = (await (await fetch(`${node.url}/hubs/echo/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    const poll = await fetch(`${node.url}/hubs/echo?id=${connectionToken}`)
    expect(poll.status).toBe(404)
    await expect(poll.text()).resolves.toBe('LongPolling transport not supported by this end point type')
  })
})
