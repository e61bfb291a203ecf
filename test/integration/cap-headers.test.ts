/**
 * DotNetCore.CAP interop against a real nats-server: forwarded envelopes and lifecycle events carry
 * CAP's headers (its NATS subscribers refuse a message without `cap-msg-id`), a durable forward's
 * `Nats-Msg-Id` is its `cap-msg-id`, and `hubs.envelopeCasing: 'pascal'` gives PascalCase bodies.
 */
import type { Msg, MsgHdrs } from '@nats-io/transport-node'
import { describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { Hub, HubBase, HubMethod } from '../../src/index.js'
import { connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const CAP_HEADERS = ['cap-msg-id', 'cap-msg-name', 'cap-msg-type', 'cap-corr-id', 'cap-corr-seq', 'cap-senttime']
/** `DateTimeOffset.ToString()` under the invariant culture, which CAP parses back. */
const CAP_SENT_TIME = /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \+00:00$/

@Hub({ name: 'cap-own' })
class OwnIdHub extends HubBase {
  @HubMethod()
  async place(id: string): Promise<void> {
    await this.bus.publish('im.cap-own.placed', { id }, { 'cap-msg-id': id, 'cap-msg-type': 'Shop.OrderPlaced' })
  }
}

const fixture = jetStreamFixture()
const { node } = fixture

async function client(server: TestServer, path?: string): Promise<TestClient> {
  const connection = await connectClient(server.hubUrl(path))
  fixture.onCleanup(() => connection.stop())
  return connection
}

/** Collects what core NATS delivers on `subject`. */
async function listen(subject: string): Promise<Msg[]> {
  const received: Msg[] = []
  const subscription = fixture.nc.subscribe(subject, { callback: (_error, msg) => void received.push(msg) })
  fixture.onCleanup(async () => subscription.unsubscribe())
  await fixture.nc.flush()
  return received
}

function headerMap(h: MsgHdrs | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of h?.keys() ?? []) out[key] = h!.get(key)
  return out
}

function expectCapHeaders(h: Record<string, string>, subject: string, typeName: string): void {
  for (const name of CAP_HEADERS) expect(h, name).toHaveProperty(name)
  expect(h['cap-msg-id']).toMatch(/^\d{1,19}$/)
  expect(BigInt(h['cap-msg-id']!) < 1n << 63n).toBe(true)
  expect(h['cap-msg-name']).toBe(subject)
  expect(h['cap-msg-type']).toBe(typeName)
  expect(h['cap-corr-id']).toBe(h['cap-msg-id'])
  expect(h['cap-corr-seq']).toBe('0')
  expect(h['cap-senttime']).toMatch(CAP_SENT_TIME)
  // CAP's subscriber writes its own group; a publisher's would be wrong.
  expect(h).not.toHaveProperty('cap-msg-group')
}

describe('CAP headers (on by default)', () => {
  it('a publish reaches a NATS subscriber with every CAP header and a camelCase envelope', async () => {
    const server = await node({})
    const received = await listen('im.default.receive.orders.>')
    const connection = await client(server)
    await connection.invoke('publish', 'orders.created', { id: 42 })
    await vi.waitFor(() => expect(received).toHaveLength(1), WAIT)
    expectCapHeaders(headerMap(received[0]!.headers), 'im.default.receive.orders.created', 'IMService.InvocationEnvelope')
    expect(received[0]!.json()).toMatchObject({ hub: 'default', method: 'publish', topic: 'orders.created', args: [{ id: 42 }], connectionId: connection.connectionId })
  })

  it('gives every message its own cap-msg-id', async () => {
    const server = await node({})
    const received = await listen('im.default.receive.orders.>')
    const connection = await client(server)
    for (let i = 0; i < 5; i++) await connection.invoke('publish', 'orders.created', i)
    await connection.send('publish', 'orders.created', 'no invocation id')
    await vi.waitFor(() => expect(received).toHaveLength(6), WAIT)
    const ids = received.map((m) => m.headers!.get('cap-msg-id'))
    expect(new Set(ids).size).toBe(6)
  })

  it('a durable forward uses its cap-msg-id as Nats-Msg-Id', async () => {
    await fixture.jsm.streams.add({ name: 'ORDERS', subjects: ['im.default.receive.orders.>'] })
    const server = await node({ config: { jetstream: { forward: ['im.default.receive.>'] } } })
    const connection = await client(server)
    await connection.invoke('publish', 'orders.created', { id: 1 })
    const stored = await fixture.jsm.streams.getMessage('ORDERS', { seq: 1 })
    const h = headerMap(stored!.header)
    expectCapHeaders(h, 'im.default.receive.orders.created', 'IMService.InvocationEnvelope')
    expect(h['Nats-Msg-Id']).toBe(h['cap-msg-id'])
  })

  it("a hub publish keeps the cap-msg-id and type it names, and a durable one dedups on that id", async () => {
    await fixture.jsm.streams.add({ name: 'PLACED', subjects: ['im.cap-own.placed'] })
    const server = await node({ hubs: [DefaultHub, OwnIdHub], config: { jetstream: { forward: ['im.cap-own.placed'] } } })
    const connection = await client(server, '/signalr-hubs/cap-own')
    await connection.invoke('place', '4242')
    await connection.invoke('place', '4242')
    const { state } = await fixture.jsm.streams.info('PLACED')
    expect(state.messages).toBe(1)
    const h = headerMap((await fixture.jsm.streams.getMessage('PLACED', { seq: 1 }))!.header)
    expect(h).toMatchObject({ 'cap-msg-id': '4242', 'Nats-Msg-Id': '4242', 'cap-msg-type': 'Shop.OrderPlaced', 'cap-msg-name': 'im.cap-own.placed' })
  })

  it('lifecycle events carry them too', async () => {
    const server = await node({})
    const connected = await listen('im.default.connected')
    const disconnected = await listen('im.default.disconnected')
    const connection = await client(server)
    await vi.waitFor(() => expect(connected).toHaveLength(1), WAIT)
    expectCapHeaders(headerMap(connected[0]!.headers), 'im.default.connected', 'IMService.LifecycleEvent')
    expect(connected[0]!.json()).toMatchObject({ connectionId: connection.connectionId })
    await connection.stop()
    await vi.waitFor(() => expect(disconnected).toHaveLength(1), WAIT)
    expectCapHeaders(headerMap(disconnected[0]!.headers), 'im.default.disconnected', 'IMService.LifecycleEvent')
    expect(disconnected[0]!.headers!.get('cap-msg-id')).not.toBe(connected[0]!.headers!.get('cap-msg-id'))
  })

  it('nats.capHeaders: false writes none', async () => {
    const server = await node({ config: { nats: { capHeaders: false } } })
    const received = await listen('im.default.receive.orders.>')
    const connection = await client(server)
    await connection.invoke('publish', 'orders.created', 1)
    await vi.waitFor(() => expect(received).toHaveLength(1), WAIT)
    expect(Object.keys(headerMap(received[0]!.headers)).filter((k) => k.startsWith('cap-'))).toEqual([])
  })
})

describe("hubs.envelopeCasing: 'pascal'", () => {
  it('forwards envelopes and lifecycle events with PascalCase properties, arguments untouched', async () => {
    const server = await node({ config: { hubs: { envelopeCasing: 'pascal' } } })
    const received = await listen('im.default.receive.orders.>')
    const connected = await listen('im.default.connected')
    const connection = await client(server)
    await connection.invoke('publish', 'orders.created', { orderId: 7 })
    await vi.waitFor(() => expect(received).toHaveLength(1), WAIT)
    const body = received[0]!.json<Record<string, unknown>>()
    expect(Object.keys(body).sort()).toEqual(['Args', 'ConnectionId', 'Hub', 'Method', 'Node', 'Timestamp', 'Topic', 'UserId'])
    expect(body).toMatchObject({ Hub: 'default', Method: 'publish', Topic: 'orders.created', Args: [{ orderId: 7 }], ConnectionId: connection.connectionId, UserId: null })
    await vi.waitFor(() => expect(connected).toHaveLength(1), WAIT)
    expect(Object.keys(connected[0]!.json<Record<string, unknown>>()).sort()).toEqual(['ConnectionId', 'Node', 'Timestamp', 'Transport', 'UserId'])
  })
})
