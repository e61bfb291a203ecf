/**
 * No sticky sessions: two nodes behind a "load balancer" that sends every request of a client to
 * the other node than the one before. Negotiate, the transport request, every poll and every send
 * may land anywhere, and the client works as if it talked to one server.
 */
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as signalR from '@microsoft/signalr'
import * as signalR1 from 'signalr-1'
import { MessagePackHubProtocol as MessagePack1 } from 'signalr-1-msgpack'
import * as signalR6 from 'signalr-6'
import { MessagePackHubProtocol as MessagePack6 } from 'signalr-6-msgpack'
import { beforeAll, describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { closed, connectClient, Inbox } from '../support/clients.js'
import { startHeldLongPolling } from '../support/held-polls.js'
import type { TestServer } from '../support/im-server.js'
import { natsFixture } from '../support/nats-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

// A presence answer tells a test which node holds a connection; the gather timeout is long so that
// a loaded machine cannot end the gathering before the other node's part arrives (a complete
// gathering ends as soon as both nodes answered).
const fixture = natsFixture({
  nodes: ['lb-a', 'lb-b'].map((nodeId) => ({
    hubs: [DefaultHub, EchoHub],
    config: { nodeId, jwt: { secret: TEST_JWT_SECRET }, hubs: { longPollTimeoutMs: 1000 }, presence: { gatherTimeoutMs: 10_000 } },
  })),
})
let balancerUrl: string
let balancer: Balancer
/** Which node each proxied request went to, in order. */
const routed: number[] = []

interface Balancer extends AsyncDisposable {
  readonly url: string
  /** The index of the node the next request goes to. */
  nextTarget(): number
}

/** A round-robin HTTP proxy with no affinity at all (WebSocket upgrades are not proxied). */
async function startBalancer(targets: readonly TestServer[]): Promise<Balancer> {
  let next = 0
  const proxy = createServer((req, res) => {
    const index = next++ % targets.length
    routed.push(index)
    const target = new URL(targets[index]!.url)
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    nextTarget: () => next % targets.length,
    [Symbol.asyncDispose]: () => {
      proxy.closeAllConnections()
      return new Promise<void>((resolve) => proxy.close(() => resolve()))
    },
  }
}

beforeAll(async () => {
  balancer = fixture.hold(await startBalancer(fixture.nodes))
  balancerUrl = balancer.url
})

describe.each([
  ['LongPolling', signalR.HttpTransportType.LongPolling],
  ['ServerSentEvents', signalR.HttpTransportType.ServerSentEvents],
])('%s through a load balancer without affinity', (_name, transport) => {
  it('connects, invokes, receives user messages and streams, with requests alternating between nodes', async () => {
    routed.length = 0
    const user = `roamer-${_name}`
    await using c = await connectClient(`${balancerUrl}/signalr-hubs/default`, { transport, accessToken: await tokenFor(user) })
    const inbox = new Inbox(c, 'note')
    const listener = await fixture.service.listen(`im.default.receive.roam.${_name}`)
    for (let i = 0; i < 4; i++) await c.invoke('publish', `roam.${_name}`, i)
    for (let i = 0; i < 4; i++) expect((await listener.next()).json).toMatchObject({ args: [i], userId: user })
    for (let i = 0; i < 3; i++) await fixture.service.publish('im.default.send.user', { userId: user, method: 'note', args: [i] })
    for (let i = 0; i < 3; i++) expect(await inbox.next()).toEqual([i])
    // Requests really went to both nodes, and some were served through the other one.
    expect(new Set(routed)).toEqual(new Set([0, 1]))
    const relayed = fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)
    const claimed = fixture.nodes.reduce((sum, n) => sum + n.metrics.get('connection_claims'), 0)
    expect(relayed + claimed).toBeGreaterThan(0)
  })

  it('gives hub code the request that opened the transport, whichever node later requests reach', async () => {
    const token = await tokenFor('roamer')
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(`${balancerUrl}/hubs/echo?room=${_name}`, { transport, headers: { 'X-Tenant': 'acme' }, accessTokenFactory: () => token })
      .configureLogging(signalR.LogLevel.None)
      .build()
    await connection.start()
    const relayedBefore = fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)
    const first = (await connection.invoke('getHttpContext')) as { headers: Record<string, string>; query: Record<string, string>; transport: string }
    for (let i = 0; i < 3; i++) await connection.invoke('echo', i)
    const later = await connection.invoke('getHttpContext')
    // Sends (and polls) went through the other node meanwhile; the snapshot stayed the opening request's.
    expect(fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)).toBeGreaterThan(relayedBefore)
    expect(later).toEqual(first)
    expect(first).toMatchObject({ transport: _name, headers: { 'x-tenant': 'acme' }, query: { room: _name } })
    expect(JSON.stringify(first)).not.toContain(token)
    await connection.stop()
  })
})

/** Old MessagePack packages are typed against their peer package (@aspnet/signalr, @microsoft/signalr 10): another copy of the same interface. */
const asProtocol = <T>(protocol: object): T => protocol as T

// A POST relayed to the node holding the connection arrives there byte for byte, and is read by
// the connection's protocol: these clients post MessagePack with no Content-Type (1.x under Node)
// and as text/plain;charset=UTF-8 (6.x).
describe.each([
  [
    '@aspnet/signalr 1.1.4',
    () =>
      new signalR1.HubConnectionBuilder()
        .withUrl(`${balancerUrl}/hubs/echo`, { transport: signalR1.HttpTransportType.LongPolling })
        .withHubProtocol(asProtocol<signalR1.IHubProtocol>(new MessagePack1()))
        .configureLogging(signalR1.LogLevel.None)
        .build(),
  ],
  [
    '@microsoft/signalr 6.0.25',
    () =>
      new signalR6.HubConnectionBuilder()
        .withUrl(`${balancerUrl}/hubs/echo`, { transport: signalR6.HttpTransportType.LongPolling })
        .withHubProtocol(asProtocol<signalR6.IHubProtocol>(new MessagePack6()))
        .configureLogging(signalR6.LogLevel.None)
        .build(),
  ],
])('%s, MessagePack over long polling through the load balancer', (_name, build) => {
  it('invokes with every send relayed or served where it lands', async () => {
    const relayedBefore = fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)
    const connection = build()
    await connection.start()
    try {
      const argument = { text: 'héllo ✓ 你好', list: [1, 2.5, -300000, 'x'.repeat(40)] }
      for (let i = 0; i < 4; i++) expect(await connection.invoke('echo', { ...argument, i })).toEqual({ ...argument, i })
    } finally {
      await connection.stop()
    }
    expect(fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)).toBeGreaterThan(relayedBefore)
  })
})

describe('relaying', () => {
  it('a long poll landing on the other node after a server close takes the Close there, and the client does not reconnect', async () => {
    const { client, polls, reconnects } = await startHeldLongPolling(`${balancerUrl}/signalr-hubs/default`, () => tokenFor('roamer-closed'))
    fixture.hold({ [Symbol.asyncDispose]: () => client.stop() })
    const held = polls.holdNext()
    const inbox = new Inbox(client, 'note')
    await fixture.service.publish('im.default.send.client', { connectionId: client.connectionId, method: 'note', args: ['before'] })
    expect(await inbox.next()).toEqual(['before'])
    await held.sent
    const presence = (await fixture.service.nc.request('im.default.presence.user', JSON.stringify({ userId: 'roamer-closed' }), { timeout: 5000 })).json() as { connections: { node: string }[] }
    const holder = ['lb-a', 'lb-b'].indexOf(presence.connections[0]!.node)
    const disconnected = await fixture.service.listen('im.default.disconnected')
    const end = closed(client)
    await fixture.service.publish('im.default.disconnect', { connectionId: client.connectionId, reason: 'closed while roaming' })
    await disconnected.nextFor(client.connectionId)
    // The held poll goes to the node that does not hold the connection (one request more flips the round robin).
    if (balancer.nextTarget() === holder) await (await fetch(`${balancerUrl}/signalr-hubs/default`)).arrayBuffer()
    const relayedBefore = fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)
    held.release()
    expect((await end)?.message).toBe('Server returned an error on close: closed while roaming')
    expect(reconnects()).toBe(0)
    expect(fixture.nodes.reduce((sum, n) => sum + n.metrics.get('requests_relayed'), 0)).toBeGreaterThan(relayedBefore)
  })

  it("refuses another user's token on the other node too", async () => {
    const body = (await (
      await fetch(`${fixture.nodes[0]!.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${await tokenFor('owner')}` } })
    ).json()) as { connectionToken: string }
    const eve = { Authorization: `Bearer ${await tokenFor('eve')}` }
    expect((await fetch(`${fixture.nodes[1]!.hubUrl()}?id=${body.connectionToken}`, { headers: eve })).status).toBe(403)
    // The owner can still open it, from the other node.
    const first = await fetch(`${fixture.nodes[1]!.hubUrl()}?id=${body.connectionToken}`, { headers: { Authorization: `Bearer ${await tokenFor('owner')}` } })
    expect(first.status).toBe(200)
  })

  it('answers 404 for a token no node issued, and for a tag that is not a subject token', async () => {
    expect((await fetch(`${fixture.nodes[1]!.hubUrl()}?id=AAAAAAnotatoken`)).status).toBe(404)
    expect((await fetch(`${fixture.nodes[1]!.hubUrl()}?id=${encodeURIComponent('*.>abc')}`)).status).toBe(404)
  })

  it('answers 503 while the node that issued a token does not answer, and 404 once it has stopped', async () => {
    // A node that hangs: it listens on its subject and never answers.
    const hung = fixture.service.nc.subscribe('im.default.node.ZZZZZZ')
    await fixture.service.nc.flush()
    const slow = await fetch(`${fixture.nodes[1]!.hubUrl()}?id=ZZZZZZnotatoken`)
    expect([slow.status, await slow.text()]).toEqual([503, 'The server holding this connection did not answer in time; try again.'])
    hung.unsubscribe()
    await fixture.service.nc.flush()
    const gone = await fetch(`${fixture.nodes[1]!.hubUrl()}?id=ZZZZZZnotatoken`)
    expect([gone.status, await gone.text()]).toEqual([404, 'No Connection with that ID'])
  })

  it('drops a control message it cannot read and goes on answering the other nodes', async () => {
    const body = (await (await fetch(`${fixture.nodes[0]!.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${await tokenFor('owner')}` } })).json()) as {
      connectionToken: string
    }
    const tag = body.connectionToken.slice(0, 6)
    for (const garbage of ['not json', '{"op":"claim"}', '{"op":"take","token":"x","by":"*.>"}', '[]']) {
      await fixture.service.publishRaw(`im.default.node.${tag}`, garbage)
    }
    // The node that issued the token still hands it over to the other one.
    const opened = await fetch(`${fixture.nodes[1]!.hubUrl()}?id=${body.connectionToken}`, { headers: { Authorization: `Bearer ${await tokenFor('owner')}` } })
    expect(opened.status).toBe(200)
  })

  it('a WebSocket negotiated on one node opens on the other', async () => {
    const body = (await (await fetch(`${fixture.nodes[0]!.hubUrl('/hubs/echo')}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionId: string; connectionToken: string }
    const ws = await import('ws')
    const socket = new ws.WebSocket(`${fixture.nodes[1]!.hubUrl('/hubs/echo').replace('http', 'ws')}?id=${body.connectionToken}`)
    const frames: string[] = []
    socket.on('message', (d) => frames.push(d.toString()))
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))
    socket.send('{"protocol":"json","version":1}\u001e{"type":1,"invocationId":"1","target":"whoAmI","arguments":[]}\u001e')
    await new Promise<void>((resolve) => {
      const check = (): void => (frames.join('').includes('"type":3') ? resolve() : void setTimeout(check, 10))
      check()
    })
    expect(frames.join('')).toContain(`"connectionId":"${body.connectionId}"`)
    socket.close()
  })
})

it('still serves WebSocket clients directly', async () => {
  await using c = await connectClient(fixture.nodes[1]!.hubUrl('/hubs/echo'))
  await expect(c.invoke('echo', 'direct')).resolves.toBe('direct')
})
