/**
 * The hub contract enforced at run time, driven by the official client over JSON and
 * MessagePack and by a service on a real nats-server: arguments, client-stream items and service
 * payloads that do not fit their declared types never reach hub code, the client gets ASP.NET's
 * binder text, Date values arrive as Dates, and the connection stays open.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { describe, expect, it } from 'vitest'
import { ValidatedHub } from '../fixtures/hubs/validated-hub.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'

const fixture = natsFixture({ nodes: [{ hubs: [ValidatedHub] }, { hubs: [ValidatedHub], config: { hubs: { enableDetailedErrors: true } } }] })
/** The second node: detailed errors on. */
const detailed = (): TestServer => fixture.nodes[1]!

const BINDER = 'InvalidDataException: Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.'

async function client(on: TestServer = fixture.server, protocol?: signalR.IHubProtocol): Promise<TestClient> {
  const c = await connectClient(on.hubUrl('/hubs/validated'), protocol ? { protocol } : {})
  fixture.hold(c)
  return c
}

describe.each([
  ['JSON', () => undefined],
  ['MessagePack', () => new MessagePackHubProtocol()],
])('client arguments over %s', (_name, protocol) => {
  it('refuses a number for a string parameter with the binder text, and the connection stays open', async () => {
    const c = await client(fixture.server, protocol())
    const before = fixture.server.metrics.get('invocations_invalid_arguments')
    await expect(c.invoke('greet', 42)).rejects.toThrow(/^Failed to invoke 'greet' due to an error on the server\.$/)
    expect(fixture.server.metrics.get('invocations_invalid_arguments')).toBe(before + 1)
    expect(c.state).toBe(signalR.HubConnectionState.Connected)
    expect(await c.invoke('greet', 'ann')).toBe('hello ann')
  })

  it('names the parameter and the path with detailed errors', async () => {
    const c = await client(detailed(), protocol())
    await expect(c.invoke('greet', 42)).rejects.toThrow(`Failed to invoke 'greet' due to an error on the server. ${BINDER} Parameter 'name' must be string.`)
    await expect(c.invoke('greet', 'ann', 'twice')).rejects.toThrow(`${BINDER} Parameter 'times' must be number.`)
    await expect(c.invoke('post', { text: 'hi', sentAt: new Date(), tags: ['a', 7] })).rejects.toThrow(`${BINDER} Parameter 'message' at '/tags/1' must be string.`)
    await expect(c.invoke('post', { sentAt: new Date() })).rejects.toThrow(`${BINDER} Parameter 'message' must have required property 'text'.`)
    await expect(c.invoke('stamp', 'yesterday')).rejects.toThrow(`${BINDER} Parameter 'at' must be an ISO 8601 date-time string.`)
    expect(await c.invoke('greet', 'bo')).toBe('hello bo')
  })

  it('hands a Uint8Array parameter to the method as bytes: base64 over JSON, bin over MessagePack', async () => {
    const c = await client(fixture.server, protocol())
    // The official JSON protocol writes a Uint8Array as an object of indices; .NET clients send base64.
    const bytes = _name === 'JSON' ? 'CQgH' : Uint8Array.of(9, 8, 7)
    expect(await c.invoke('measure', bytes)).toEqual({ isBytes: true, length: 3, first: 9 })
    await expect(c.invoke('measure', 12)).rejects.toThrow(/^Failed to invoke 'measure' due to an error on the server\.$/)
  })

  it('hands a Date parameter to the method as a Date', async () => {
    const c = await client(fixture.server, protocol())
    expect(await c.invoke('stamp', new Date(Date.UTC(2031, 4, 6)))).toEqual({ isDate: true, year: 2031 })
    expect(await c.invoke('post', { text: 'hi', sentAt: new Date(Date.UTC(2029, 0, 1)) })).toEqual({ keys: ['sentAt', 'text'], year: 2029 })
  })

  it('accepts extra properties, and an optional parameter sent as null', async () => {
    const c = await client(fixture.server, protocol())
    const result = await c.invoke('post', { text: 'hi', sentAt: new Date(Date.UTC(2030, 0, 1)), mood: 'happy' })
    expect(result).toEqual({ keys: ['mood', 'sentAt', 'text'], year: 2030 })
    expect(await c.invoke('greet', 'cy', null)).toBe('hello cy')
  })
})

describe('client streams', () => {
  it('checks each item: a bad one ends the stream with the binder text, and the connection stays open', async () => {
    const c = await client(detailed())
    const good = new signalR.Subject<unknown>()
    const sum = c.invoke('total', good)
    good.next({ sensor: 'a', value: 2 })
    good.next({ sensor: 'b', value: 3, unit: 'C' })
    good.complete()
    expect(await sum).toBe(5)

    const before = detailed().metrics.get('client_stream_items_invalid')
    const bad = new signalR.Subject<unknown>()
    const refused = c.invoke('total', bad)
    bad.next({ sensor: 'a', value: 1 })
    bad.next({ sensor: 'b', value: 'three' })
    await expect(refused).rejects.toThrow(
      `An unexpected error occurred invoking 'total' on the server. HubException: Failed to bind Stream message. ${BINDER} Parameter 'readings' at '/value' must be number.`,
    )
    expect(detailed().metrics.get('client_stream_items_invalid')).toBe(before + 1)
    expect(c.state).toBe(signalR.HubConnectionState.Connected)
    expect(await c.invoke('greet', 'after')).toBe('hello after')
  })
})

describe('service payloads', () => {
  it('drops a payload of the wrong shape, counts it per subject, and delivers the next one with its Date revived', async () => {
    const c = await client()
    const inbox = new Inbox(c, 'message')
    const dropped = fixture.server.metrics.get('bus_payloads_dropped')
    await fixture.service.publish('app.typed.messages', { text: 'no date' })
    await fixture.service.publish('app.typed.messages', { text: 7, sentAt: '2030-01-01T00:00:00Z' })
    await fixture.service.publish('app.typed.messages', { text: 'late', sentAt: 'not a date' })
    // A .NET publisher's casing is matched, as ASP.NET's JSON protocol does.
    await fixture.service.publish('app.typed.messages', { Text: 'hello', SentAt: '2032-03-04T05:06:07.123+02:00', extra: true })
    expect(await inbox.next()).toEqual(['hello', 2032])
    expect(inbox.received).toHaveLength(1)
    expect(fixture.server.metrics.get('bus_payloads_dropped')).toBe(dropped + 3)
    expect(fixture.server.metrics.get('bus_payloads_invalid{subject="app.typed.messages"}')).toBe(3)
    const metrics = await (await fetch(`${fixture.server.url}/metrics`)).text()
    expect(metrics).toContain('im_bus_payloads_invalid_total{subject="app.typed.messages"} 3')
  })
})
