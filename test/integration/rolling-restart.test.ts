/**
 * A rolling restart of a two-node cluster behind a load balancer without affinity: node A drains
 * while services publish, comes back as A2, then B drains. Clients built with
 * withStatefulReconnect() + withAutomaticReconnect() keep their connection (same id, no
 * reconnecting event) and get every broadcast, group and user message exactly once, in order:
 * each drained node lets its WebSockets go without a Close and the other node takes the
 * connections over with what they had not acknowledged (src/connection/connection-move.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises'
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { numberedWebSocket, withTimeout } from '../support/clients.js'
import { startNatsServer } from '../support/nats-server.js'
import { startTestServer, untilSubscribed } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import { startTcpBalancer } from '../support/tcp-balancer.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const USERS = ['roll-u0', 'roll-u1', 'roll-u2']
const MESSAGES = 240

interface Observed {
  readonly client: signalR.HubConnection
  readonly user: number
  readonly tick: number[]
  readonly group: number[]
  readonly own: number[]
  reconnecting: boolean
}

async function statefulClient(url: string, user: number, binary: boolean): Promise<Observed> {
  const token = await tokenFor(USERS[user]!)
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => token })
    .withStatefulReconnect()
    .withAutomaticReconnect([0, 100, 200, 500])
    .configureLogging(signalR.LogLevel.None)
  if (binary) builder = builder.withHubProtocol(new MessagePackHubProtocol())
  const client = builder.build()
  const observed: Observed = { client, user, tick: [], group: [], own: [], reconnecting: false }
  client.on('tick', (n: number) => observed.tick.push(n))
  client.on('grp', (n: number) => observed.group.push(n))
  client.on('own', (n: number) => observed.own.push(n))
  client.onreconnecting(() => (observed.reconnecting = true))
  await client.start()
  return observed
}

/**
 * Longer than any wait below: a drain that ends only at this deadline (a client that could not
 * come back) fails the test instead of passing slowly.
 */
const SHUTDOWN_TIMEOUT_MS = 30_000

// A StatefulSet brings A back under its own node id: its new life must not take the tokens of
// the old one (whose connections moved to B) for its own.
it.each([
  ['a new node id', 'roll-a2'],
  ['the same node id', 'roll-a'],
])('a rolling restart of two nodes (A back with %s) loses and repeats no message for stateful-reconnect clients', async (_, replacementId) => {
  await using nats = await startNatsServer()
  const start = (nodeId: string): Promise<TestServer> =>
    startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId, jwt: { secret: TEST_JWT_SECRET }, hubs: { shutdownTimeoutMs: SHUTDOWN_TIMEOUT_MS } } })
  const a = await start('roll-a')
  const b = await start('roll-b')
  await Promise.all([untilSubscribed(a), untilSubscribed(b)])
  // The balancer reads this array on every new TCP connection: replacing a node is one assignment.
  const targets: TestServer[] = [a, b]
  await using balancer = await startTcpBalancer(targets)
  await using service = await TestService.connect(nats.url)

  // Six clients, spread over both nodes by the balancer, two per user, every other one MessagePack.
  const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => statefulClient(`${balancer.url}/signalr-hubs/default`, i % 3, i % 2 === 1)))
  expect(a.metrics.get('connections_opened')).toBeGreaterThan(0)
  expect(b.metrics.get('connections_opened')).toBeGreaterThan(0)
  const ids = clients.map((c) => c.client.connectionId)
  for (const c of clients) await service.publish('im.default.groups.add', { connectionId: c.client.connectionId, group: 'roll' })
  // A round trip through NATS on each node: the joins above have been applied.
  await Promise.all([a.bus.ready(), b.bus.ready()])

  let a2: TestServer | undefined
  let draining: Promise<void>[] = []
  for (let i = 0; i < MESSAGES; i++) {
    await service.publish('im.default.send', { method: 'tick', args: [i] })
    await service.publish('im.default.send.group', { group: 'roll', method: 'grp', args: [i] })
    await service.publish('im.default.send.user', { userId: USERS[i % 3], method: 'own', args: [i] })
    if (i === 40) draining.push(a.close())
    if (i === 120) {
      await withTimeout(Promise.all(draining), 15_000, 'A to finish its drain')
      a2 = await start(replacementId)
      targets[0] = a2
    }
    if (i === 160) draining.push(b.close())
    if (i % 8 === 0) await sleep(5)
  }
  // Every connection B held came back on A2: B's drain completes without waiting for its deadline.
  await withTimeout(Promise.all(draining), 15_000, 'B to finish its drain')
  draining = []

  const all = Array.from({ length: MESSAGES }, (_, i) => i)
  await withTimeout(
    (async () => {
      // The user message of each round goes out last: wait for those too.
      const owed = (user: number): number => Math.ceil((MESSAGES - user) / 3)
      while (clients.some((c) => c.tick.length < MESSAGES || c.group.length < MESSAGES || c.own.length < owed(c.user))) await sleep(20)
    })(),
    15_000,
    'every client to receive every message',
  ).catch(() => undefined)
  for (const c of clients) {
    expect(c.tick).toEqual(all)
    expect(c.group).toEqual(all)
    expect(c.own).toEqual(all.filter((i) => i % 3 === c.user))
    expect(c.reconnecting).toBe(false)
  }
  // The same connections all along, now all on A2.
  expect(clients.map((c) => c.client.connectionId)).toEqual(ids)
  expect(clients.every((c) => c.client.state === signalR.HubConnectionState.Connected)).toBe(true)
  expect(a2!.metrics.get('connections_moved_in')).toBe(clients.length)
  await Promise.all(clients.map((c) => c.client.stop()))
  // Let the closes reach A2 before it drains (else it lets them go and waits for them to come back).
  await withTimeout(
    (async () => {
      while (a2!.metrics.get('connections_closed') < clients.length) await sleep(10)
    })(),
    5000,
    'A2 to see the clients leave',
  )
  await a2!.close()
}, 60_000)

it('a stateful reconnect that the balancer sends to the other node moves the connection there', async () => {
  await using nats = await startNatsServer()
  await using a = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId: 'cut-a', jwt: { secret: TEST_JWT_SECRET } } })
  await using b = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId: 'cut-b', jwt: { secret: TEST_JWT_SECRET } } })
  await Promise.all([untilSubscribed(a), untilSubscribed(b)])
  await using balancer = await startTcpBalancer([a, b])
  await using service = await TestService.connect(nats.url)
  const observed = await statefulClient(`${balancer.url}/signalr-hubs/default`, 0, false)
  const id = observed.client.connectionId
  const holder = (): TestServer => (a.metrics.get('connections_opened') + a.metrics.get('connections_moved_in') > a.metrics.get('connections_moved_out') ? a : b)
  const first = holder()

  for (let i = 0; i < 20; i++) await service.publish('im.default.send', { method: 'tick', args: [i] })
  // Cut the TCP connection without a close frame; what follows is sent while the client is away.
  const socket = (observed.client as unknown as { connection: { transport: { _webSocket: { _socket: { destroy(): void } } } } }).connection.transport._webSocket._socket
  socket.destroy()
  for (let i = 20; i < 40; i++) await service.publish('im.default.send', { method: 'tick', args: [i] })

  await withTimeout(
    (async () => {
      while (observed.tick.length < 40) await sleep(20)
    })(),
    10_000,
    'the ticks sent while the client was away',
  ).catch(() => undefined)
  expect(observed.tick).toEqual(Array.from({ length: 40 }, (_, i) => i))
  expect(observed.client.connectionId).toBe(id)
  expect(observed.reconnecting).toBe(false)
  // The round-robin balancer sent the new socket to the other node, which took the connection over.
  expect(holder()).not.toBe(first)
  await observed.client.stop()
  // Let the close reach the node before the balancer goes (else the node waits for a reconnect).
  await withTimeout(
    (async () => {
      while (a.metrics.get('connections_closed') + b.metrics.get('connections_closed') === 0) await sleep(10)
    })(),
    5000,
    'the node to see the client leave',
  )
}, 30_000)

it("a connection moved to another node gives hub code its client's reconnect request", async () => {
  await using nats = await startNatsServer()
  await using a = await startTestServer({ natsUrl: nats.url, hubs: [EchoHub], config: { nodeId: 'http-a' } })
  await using b = await startTestServer({ natsUrl: nats.url, hubs: [EchoHub], config: { nodeId: 'http-b' } })
  // The first socket may land on the node that did not negotiate: it must be able to ask the other.
  await Promise.all([untilSubscribed(a), untilSubscribed(b)])
  await using balancer = await startTcpBalancer([a, b])
  const client = new signalR.HubConnectionBuilder()
    .withUrl(`${balancer.url}/hubs/echo?room=blue`, { transport: signalR.HttpTransportType.WebSockets, ...{ WebSocket: numberedWebSocket() } })
    .withStatefulReconnect()
    .configureLogging(signalR.LogLevel.None)
    .build()
  await client.start()
  const holder = (): TestServer => (a.metrics.get('connections_opened') + a.metrics.get('connections_moved_in') > a.metrics.get('connections_moved_out') ? a : b)
  const first = holder()
  await expect(client.invoke('getHeader', 'x-attempt')).resolves.toBe('1')
  const socket = (client as unknown as { connection: { transport: { _webSocket: { _socket: { destroy(): void } } } } }).connection.transport._webSocket._socket
  socket.destroy()
  const http = (await withTimeout(client.invoke('getHttpContext'), 10_000, 'the call after the move')) as { headers: Record<string, string>; query: Record<string, string> }
  expect(holder()).not.toBe(first)
  expect(http.headers['x-attempt']).toBe('2')
  expect(http.query).toEqual({ room: 'blue' })
  await client.stop()
  await withTimeout(
    (async () => {
      while (a.metrics.get('connections_closed') + b.metrics.get('connections_closed') === 0) await sleep(10)
    })(),
    5000,
    'the node to see the client leave',
  )
}, 30_000)

it("a node back under the same id leaves client results for its old life's moved connections to the node holding them", async () => {
  await using nats = await startNatsServer()
  const start = (nodeId: string): Promise<TestServer> =>
    startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId, jwt: { secret: TEST_JWT_SECRET } } })
  const a = await start('same-a')
  await using b = await start('same-b')
  await Promise.all([untilSubscribed(a), untilSubscribed(b)])
  const targets: TestServer[] = [a]
  await using balancer = await startTcpBalancer(targets)
  await using service = await TestService.connect(nats.url)
  const observed = await statefulClient(`${balancer.url}/signalr-hubs/default`, 0, false)
  observed.client.on('confirm', (n: number) => n * 2)
  const id = observed.client.connectionId
  // A drains: the connection it negotiated moves to B. A comes back under its own id.
  targets[0] = b
  await withTimeout(a.close(), 15_000, 'A to finish its drain')
  expect(b.metrics.get('connections_moved_in')).toBe(1)
  await using a2 = await start('same-a')
  targets[0] = a2
  // The first answer wins: before tags told the two lives apart, A2 often said 'not connected' first.
  for (let i = 0; i < 20; i++) {
    const reply = await service.nc.request('im.default.invoke.client', JSON.stringify({ connectionId: id, method: 'confirm', args: [i] }), { timeout: 5000 })
    expect(reply.json()).toEqual({ result: i * 2 })
  }
  expect(observed.client.connectionId).toBe(id)
  expect(observed.reconnecting).toBe(false)
  await observed.client.stop()
  await withTimeout(
    (async () => {
      while (b.metrics.get('connections_closed') === 0) await sleep(10)
    })(),
    5000,
    'B to see the client leave',
  )
  expect(a2.metrics.get('connections_opened')).toBe(0)
}, 30_000)
