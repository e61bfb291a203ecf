/**
 * Presence across two and three nodes on one NATS, as a service sees it: where a user is connected, who is
 * in a group, closing connections by user or id, and online/offline events once per user for the
 * whole cluster. Malformed requests get a precise error and change nothing.
 */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { closed, connectClient, Inbox } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { startTestServer, untilSubscribed } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import type { Listener } from '../support/service.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'
import { publishDisconnect, requestPresenceGroup, requestPresenceUser, subscribeUserOnline } from '../../generated/publishers/default.js'
import type { UserPresenceEvent } from '../../generated/publishers/default.js'

let nats: NatsServer
let nodeA: TestServer
let nodeB: TestServer
let nodeC: TestServer
let service: TestService
const clients: TestClient[] = []

async function on(node: TestServer, userId?: string, options: { reconnect?: boolean } = {}): Promise<TestClient> {
  const c = await connectClient(node.hubUrl(), { ...(userId ? { accessToken: await tokenFor(userId) } : {}), ...options })
  clients.push(c)
  return c
}

async function ask(subject: string, body: unknown): Promise<any> {
  const data = typeof body === 'string' ? body : JSON.stringify(body)
  return (await service.nc.request(subject, data, { timeout: 5000 })).json()
}

/** Polls `read` until `done` holds or the bound passes; returns the last value read. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let value = await read()
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    value = await read()
  }
  return value
}

/** The next event of `userId` on `listener`, skipping other users' (earlier tests' offline events come late). */
async function eventOf(listener: Listener, userId: string, timeoutMs = 5000): Promise<UserPresenceEvent> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const event = (await listener.next(Math.max(1, deadline - Date.now()))).json as UserPresenceEvent
    if (event.userId === userId) return event
  }
}

function countOf(listener: Listener, userId: string): number {
  return listener.received.filter((m) => (m.json as UserPresenceEvent).userId === userId).length
}

/** The presence answer once both nodes take part (each hears the other's heartbeat first). */
async function presenceOf(userId: string, connections: number): Promise<any> {
  return eventually(() => ask('im.default.presence.user', { userId }), (a) => a.connections?.length === connections)
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true })
  const config = { jwt: { secret: TEST_JWT_SECRET }, presence: { leaseMs: 200 } }
  ;[nodeA, nodeB, nodeC] = await Promise.all([
    startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { ...config, nodeId: 'node-a' } }),
    startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { ...config, nodeId: 'node-b' } }),
    startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { ...config, nodeId: 'node-c' } }),
  ])
  await Promise.all([untilSubscribed(nodeA), untilSubscribed(nodeB), untilSubscribed(nodeC)])
  service = await TestService.connect(nats.url)
})

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()))
  await service?.[Symbol.asyncDispose]()
  await Promise.all([nodeA?.close(), nodeB?.close(), nodeC?.close()])
  await nats?.stop()
})

describe('presence requests', () => {
  it('finds a user connected on two nodes, with each connection', async () => {
    const [onA, onB] = await Promise.all([on(nodeA, 'alice'), on(nodeB, 'alice')])
    const answer = await presenceOf('alice', 2)
    expect(answer.userId).toBe('alice')
    expect(answer.online).toBe(true)
    const byNode = Object.fromEntries(answer.connections.map((c: any) => [c.node, c]))
    expect(byNode['node-a']).toMatchObject({ connectionId: onA.connectionId, transport: 'WebSockets' })
    expect(byNode['node-b']).toMatchObject({ connectionId: onB.connectionId, transport: 'WebSockets' })
    for (const c of answer.connections) expect(new Date(c.connectedAt).toISOString()).toBe(c.connectedAt)
  })

  it('answers online false and no connections for an unknown user', async () => {
    expect(await ask('im.default.presence.user', { userId: 'nobody-here' })).toEqual({ userId: 'nobody-here', online: false, connections: [] })
  })

  it('counts the connections of many users at once', async () => {
    await Promise.all([on(nodeA, 'bea'), on(nodeB, 'bea'), on(nodeB, 'cid')])
    const answer = await eventually(() => ask('im.default.presence.users', { userIds: ['bea', 'cid', 'ghost'] }), (a) => a.users?.[0]?.connections === 2)
    expect(answer).toEqual({
      users: [
        { userId: 'bea', online: true, connections: 2 },
        { userId: 'cid', online: true, connections: 1 },
        { userId: 'ghost', online: false, connections: 0 },
      ],
    })
  })

  it('tells who is in a group, counting anonymous members without listing them', async () => {
    const [dee, anonymous, eve] = await Promise.all([on(nodeA, 'dee'), on(nodeB), on(nodeB, 'eve')])
    await service.publish('im.default.groups.add', { group: 'room-1', userId: 'dee' })
    await service.publish('im.default.groups.add', { group: 'room-1', connectionId: anonymous.connectionId })
    await service.publish('im.default.groups.add', { group: 'room-1', connectionId: eve.connectionId })
    const answer = await eventually(() => ask('im.default.presence.group', { group: 'room-1' }), (a) => a.connections === 3)
    expect(answer).toEqual({ group: 'room-1', connections: 3, users: ['dee', 'eve'] })
    expect(dee.state).toBe(signalR.HubConnectionState.Connected)
    expect(await ask('im.default.presence.group', { group: 'empty-room' })).toEqual({ group: 'empty-room', connections: 0, users: [] })
  })

  it.each([
    ['im.default.presence.user', '{not json', 'Invalid request: the request is not UTF-8 JSON.'],
    ['im.default.presence.user', '[1]', 'Invalid request: the request must be a JSON object.'],
    ['im.default.presence.user', {}, 'Invalid request: "userId" is missing.'],
    ['im.default.presence.user', { userId: 7 }, 'Invalid request: "userId" must be a string.'],
    ['im.default.presence.user', { userId: '' }, 'Invalid request: "userId" must not be empty.'],
    ['im.default.presence.users', { userIds: 'alice' }, 'Invalid request: "userIds" must be an array of strings.'],
    ['im.default.presence.users', { userIds: ['a', 2] }, 'Invalid request: "userIds"[1] must be a string.'],
    ['im.default.presence.users', { userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, 'Invalid request: "userIds" holds 1001 ids; at most 1000 are taken per request.'],
    ['im.default.presence.group', { room: 'x' }, 'Invalid request: "group" is missing.'],
    ['im.default.disconnect', { reason: 'x' }, 'Invalid request: one of "userId", "userIds", "connectionId" or "connectionIds" is required.'],
    ['im.default.disconnect', { userId: 'alice', reason: 5 }, 'Invalid request: "reason" must be a string.'],
  ])('answers a malformed request on %s (%j) with a precise error', async (subject, body, error) => {
    expect(await ask(subject, body)).toEqual({ error, code: 'invalid_request' })
  })

  it('a malformed request changes nothing: the user asked about stays connected and reachable', async () => {
    const fay = await on(nodeA, 'fay')
    const refused = (): number => nodeA.metrics.get('presence_requests_refused') + nodeB.metrics.get('presence_requests_refused')
    const before = refused()
    await ask('im.default.disconnect', { userId: 'fay', reason: 5 })
    // Every node hears a disconnect, and each counts the refusal.
    await eventually(async () => refused(), (n) => n === before + 2)
    expect(refused()).toBe(before + 2)
    const inbox = new Inbox(fay, 'hello')
    await service.publish('im.default.send.user', { userId: 'fay', method: 'hello', args: [1] })
    expect(await inbox.next()).toEqual([1])
    expect((await presenceOf('fay', 1)).online).toBe(true)
  })
})

describe('disconnect', () => {
  it('closes every connection of a user on every node, with the reason, and they do not come back', async () => {
    const [onA, onB, bystander] = await Promise.all([on(nodeA, 'gus', { reconnect: true }), on(nodeB, 'gus', { reconnect: true }), on(nodeB, 'hal', { reconnect: true })])
    let reconnecting = 0
    for (const c of [onA, onB]) c.onreconnecting(() => reconnecting++)
    const ends = [closed(onA), closed(onB)]
    await presenceOf('gus', 2)
    await service.publish('im.default.disconnect', { userId: 'gus', reason: 'banned for spam' })
    for (const error of await Promise.all(ends)) expect(error?.message).toBe('Server returned an error on close: banned for spam')
    expect(reconnecting).toBe(0)
    expect([onA.state, onB.state]).toEqual([signalR.HubConnectionState.Disconnected, signalR.HubConnectionState.Disconnected])
    expect(await presenceOf('gus', 0)).toEqual({ userId: 'gus', online: false, connections: [] })
    const inbox = new Inbox(bystander, 'still')
    await service.publish('im.default.send.user', { userId: 'hal', method: 'still', args: ['here'] })
    expect(await inbox.next()).toEqual(['here'])
  })

  it('closes one connection by id, leaving the same user\'s other connection', async () => {
    const [first, second] = await Promise.all([on(nodeA, 'ida'), on(nodeB, 'ida')])
    const end = closed(second)
    await service.publish('im.default.disconnect', { connectionIds: [second.connectionId] })
    expect((await end)?.message).toBe('Server returned an error on close: Disconnected by the server.')
    const answer = await presenceOf('ida', 1)
    expect(answer.connections.map((c: any) => c.connectionId)).toEqual([first.connectionId])
    expect(first.state).toBe(signalR.HubConnectionState.Connected)
  })

  it('a stateful-reconnect client is closed for good, not resumed', async () => {
    const stateful = new signalR.HubConnectionBuilder()
      .withUrl(nodeA.hubUrl(), { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => tokenFor('jan') })
      .withStatefulReconnect()
      .withAutomaticReconnect([0, 100, 200])
      .configureLogging(signalR.LogLevel.None)
      .build()
    await stateful.start()
    clients.push(Object.assign(stateful, { [Symbol.asyncDispose]: () => stateful.stop() }))
    const end = closed(stateful)
    await service.publish('im.default.disconnect', { userId: 'jan', reason: 'logged out everywhere' })
    expect((await end)?.message).toBe('Server returned an error on close: logged out everywhere')
    expect(stateful.state).toBe(signalR.HubConnectionState.Disconnected)
    expect(await presenceOf('jan', 0)).toEqual({ userId: 'jan', online: false, connections: [] })
  })
})

describe('online and offline events', () => {
  it('publishes online once when the first connection anywhere opens and offline once when the last closes', async () => {
    const online = await service.listen('im.default.user.online')
    const offline = await service.listen('im.default.user.offline')
    const first = await on(nodeA, 'kim')
    const came = await eventOf(online, 'kim')
    expect(new Date(came.timestamp).toISOString()).toBe(came.timestamp)
    const second = await on(nodeB, 'kim')
    const third = await on(nodeA, 'kim')
    await first.stop()
    await second.stop()
    await third.stop()
    await eventOf(offline, 'kim')
    // Another user's pair of events, published after kim's would have been.
    const marker = await on(nodeB, 'lea')
    await eventOf(online, 'lea')
    await marker.stop()
    await eventOf(offline, 'lea')
    expect([countOf(online, 'kim'), countOf(offline, 'kim')]).toEqual([1, 1])
  })
})

describe('online and offline events under races', () => {
  it('three nodes seeing a user arrive at the same moment, and leave at the same moment, announce each once', async () => {
    const online = await service.listen('im.default.user.online')
    const offline = await service.listen('im.default.user.offline')
    const all = await Promise.all([nodeA, nodeB, nodeC, nodeA, nodeB, nodeC].map((node) => on(node, 'rae')))
    await eventOf(online, 'rae')
    expect((await presenceOf('rae', 6)).connections.map((c: { node: string }) => c.node).sort()).toEqual(['node-a', 'node-a', 'node-b', 'node-b', 'node-c', 'node-c'])
    await Promise.all(all.map((c) => c.stop()))
    await eventOf(offline, 'rae')
    const marker = await on(nodeC, 'sam')
    await eventOf(online, 'sam')
    await marker.stop()
    await eventOf(offline, 'sam')
    expect([countOf(online, 'rae'), countOf(offline, 'rae')]).toEqual([1, 1])
  })
})

describe('offline delay', () => {
  it('a reload within the delay publishes neither offline nor a second online', async () => {
    const online = await service.listen('im.default.user.online')
    const offline = await service.listen('im.default.user.offline')
    const first = await on(nodeA, 'max')
    await eventOf(online, 'max')
    await first.stop()
    // Back at once, on the other node: within the default delay of 1 s.
    const again = await on(nodeB, 'max')
    const marker = await on(nodeA, 'ned')
    await eventOf(online, 'ned')
    await marker.stop()
    await eventOf(offline, 'ned')
    expect([countOf(online, 'max'), countOf(offline, 'max')]).toEqual([1, 0])
    await again.stop()
    await eventOf(offline, 'max')
  })
})

describe('the generated helpers', () => {
  it('ask presence, disconnect and hear online events with the typed functions im generate writes', async () => {
    const heard: UserPresenceEvent[] = []
    const subscription = subscribeUserOnline(service.nc, (event) => void heard.push(event))
    await service.nc.flush()
    const client = await on(nodeB, 'ona')
    await eventually(async () => heard, (events) => events.some((e) => e.userId === 'ona'))
    expect(heard.find((e) => e.userId === 'ona')).toMatchObject({ userId: 'ona' })
    const answer = await eventually(() => requestPresenceUser(service.nc, { userId: 'ona' }), (a) => a.connections.length === 1)
    expect(answer.connections[0]).toMatchObject({ connectionId: client.connectionId, node: 'node-b' })
    expect(await requestPresenceGroup(service.nc, { group: 'nobody-in-it' })).toEqual({ group: 'nobody-in-it', connections: 0, users: [] })
    await expect(requestPresenceUser(service.nc, { userId: '' })).rejects.toThrow('Invalid request: "userId" must not be empty.')
    const end = closed(client)
    publishDisconnect(service.nc, { userId: 'ona', reason: 'bye' })
    expect((await end)?.message).toBe('Server returned an error on close: bye')
    subscription.unsubscribe()
  })
})
