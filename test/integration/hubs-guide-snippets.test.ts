/** The snippets of docs/hubs.md (test/fixtures/hubs/guide-snippets-hub.ts) do what the guide says. */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GuideSnippetsHub } from '../fixtures/hubs/guide-snippets-hub.js'
import { buildClient, closed, connectClient, Inbox, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

let server: TestServer
const url = (): string => server.hubUrl('/signalr-hubs/guide')
const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))

/** The next JSON message on `subject` of the node's bus (embedded here: it plays the services) that `wanted` accepts. */
async function nextOn(subject: string, wanted: (json: unknown) => boolean = () => true): Promise<() => Promise<unknown>> {
  const received = new Promise<unknown>((resolve) =>
    server.bus.subscribe(subject, (message) => {
      const json: unknown = JSON.parse(new TextDecoder().decode(message.data))
      if (wanted(json)) resolve(json)
    }),
  )
  await server.bus.ready()
  return () => withTimeout(received, 5000, `a message on ${subject}`)
}

async function user(id: string, claims: Record<string, unknown> = { tenant: 'acme' }): Promise<signalR.HubConnection & AsyncDisposable> {
  return connectClient(url(), { accessToken: await tokenFor(id, { claims }) })
}

/** The error a stream ends with, or its first item. */
function firstOf(stream: signalR.IStreamResult<unknown>): Promise<unknown> {
  return withTimeout(
    new Promise((resolve) => {
      const subscription = stream.subscribe({
        next: (item) => {
          subscription.dispose()
          resolve(item)
        },
        error: (error) => resolve(error.message),
        complete: () => resolve('complete'),
      })
    }),
    5000,
    'the first item of a stream',
  )
}

beforeAll(async () => {
  server = await startTestServer({
    hubs: [GuideSnippetsHub],
    config: { jwt: { secret: TEST_JWT_SECRET }, topics: { rules: [{ pattern: 'orders.>', watch: 'authenticated', publish: 'nobody' }] } },
  })
})
afterAll(() => server?.close())

describe('the life of a connection', () => {
  it('refuses a connection whose onConnected throws, with the HubException text and no reconnect', async () => {
    const c = buildClient(url(), { accessToken: await tokenFor('nobody-of-no-tenant') })
    const closing = closed(c)
    const error = (await c.start().then(() => undefined, (e: Error) => e)) ?? (await closing)
    expect(error?.message).toBe('Server returned an error on close: Connection closed with an error. HubException: no tenant in the token')
  })

  it('runs onDisconnected when the client stops, with no error', async () => {
    const left = await nextOn('svc.presence.left', (json) => (json as { userId?: unknown }).userId === 'amy')
    const amy = await user('amy')
    await amy.stop()
    expect(await left()).toEqual({ userId: 'amy', error: null })
  })
})

describe('decorators', () => {
  it('@Subscribe with a wildcard reads the subject and the payload', async () => {
    await using amy = await user('amy')
    const inbox = new Inbox(amy, 'shipped')
    await amy.invoke('follow', '42')
    await server.bus.publish('orders.42.shipped', encode({ method: 'shipped', args: ['parcel-1'] }))
    expect(await inbox.next()).toEqual(['parcel-1'])
  })

  it('@Authorize policies decide by argument and by the request; roles refuse a stream', async () => {
    await using amy = await user('amy')
    await expect(amy.invoke('inboxOf', 'amy')).resolves.toEqual(['inbox of amy'])
    await expect(amy.invoke('inboxOf', 'bob')).rejects.toThrow("Failed to invoke 'inboxOf' because user is unauthorized")
    await expect(amy.invoke('tenantData')).rejects.toThrow("Failed to invoke 'tenantData' because user is unauthorized")
    await expect(firstOf(amy.stream('auditLog'))).resolves.toBe("Failed to invoke 'auditLog' because user is unauthorized")

    const token = await tokenFor('amy', { claims: { tenant: 'acme' } })
    const withHeader = new signalR.HubConnectionBuilder()
      .withUrl(url(), { transport: signalR.HttpTransportType.WebSockets, headers: { 'x-tenant': 'acme' }, accessTokenFactory: () => token })
      .configureLogging(signalR.LogLevel.None)
      .build()
    await withHeader.start()
    await expect(withHeader.invoke('tenantData')).resolves.toBe('acme data')
    await withHeader.stop()
  })

  it('a stream cancelled during its wait leaves the connection working', async () => {
    await using amy = await user('amy')
    await expect(firstOf(amy.stream('ticks', 3))).resolves.toBe(0)
    await expect(amy.invoke('inboxOf', 'amy')).resolves.toEqual(['inbox of amy'])
  })
})

describe('what a hub instance has', () => {
  it('this.bus.watch relays a subject after authorizeTopic', async () => {
    await using amy = await user('amy')
    const item = firstOf(amy.stream('orderUpdates', '42'))
    // The watch subscribes once the stream has started: publish until the item arrives.
    const pump = setInterval(() => void server.bus.publish('svc.orders.42.updates', encode({ status: 'packed' })), 20)
    try {
      await expect(item).resolves.toEqual({ status: 'packed' })
    } finally {
      clearInterval(pump)
    }
  })

  it('this.forward publishes the call as an envelope; a HubException refuses it first', async () => {
    await using amy = await user('amy')
    const forwarded = await nextOn('support.bugs')
    await amy.invoke('report', 'bug', 'it broke')
    expect(await forwarded()).toMatchObject({ hub: 'guide', method: 'report', args: ['it broke'], userId: 'amy' })
    await expect(amy.invoke('report', 'idea', 'x'.repeat(5001))).rejects.toThrow(
      "An unexpected error occurred invoking 'report' on the server. HubException: report too long",
    )
  })
})
