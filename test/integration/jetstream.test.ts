/**
 * Durable paths with JetStream against a real nats-server: client
 * invocations forwarded through a stream complete after its acknowledgement and are stored once
 * per call; services publishing through JetStream (DotNetCore.CAP style) reach clients once, on
 * every node, also across a lost NATS connection and a nats-server restart.
 */
import { createConnection, createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { jetstream } from '@nats-io/jetstream'
import { connect, headers } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { StreamFeed } from '../../src/bus/stream-feed.js'
import { silentLogger } from '../../src/logger.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { Forward, Hub, HubBase } from '../../src/index.js'
import { Inbox, connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'
import { startNatsServer } from '../support/nats-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const encoder = new TextEncoder()

@Hub({ name: 'js-orders' })
class DurableOrdersHub extends HubBase {
  @Forward('im.js-orders.placed', { durable: true })
  place(_order: unknown): void {}
}

const fixture = jetStreamFixture()
const { node } = fixture

async function client(server: TestServer, userId?: string, path?: string): Promise<TestClient> {
  const connection = await connectClient(server.hubUrl(path), userId ? { accessToken: await tokenFor(userId) } : {})
  fixture.onCleanup(() => connection.stop())
  return connection
}

/** The messages a stream holds, oldest first, with their headers. */
async function storedIn(stream: string): Promise<Array<{ subject: string; json: Record<string, unknown>; msgId: string | undefined }>> {
  const { state } = await fixture.jsm.streams.info(stream)
  const out = []
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const message = await fixture.jsm.streams.getMessage(stream, { seq })
    if (message) out.push({ subject: message.subject, json: message.json<Record<string, unknown>>(), msgId: message.header.get('Nats-Msg-Id') || undefined })
  }
  return out
}

/** A CAP-style publish: JSON object body, CAP headers, through JetStream (which needs a stream). */
async function capPublish(subject: string, body: object, id: string, conn: NatsConnection = fixture.nc): Promise<void> {
  const h = headers()
  h.set('cap-msg-id', id)
  h.set('cap-msg-name', subject)
  h.set('cap-senttime', new Date().toISOString())
  await jetstream(conn).publish(subject, JSON.stringify(body), { headers: h })
}

/**
 * Publishes a sentinel and waits for it: a message published earlier (or its duplicate) would have
 * arrived before it, so afterwards the counts are final without sleeping.
 */
async function settle(sentinel: Inbox, publish: () => Promise<unknown>): Promise<void> {
  await publish()
  await sentinel.next()
  expect(sentinel.received).toHaveLength(1)
}

describe('durable forwarding (client -> services)', () => {
  it('completes publish once the stream stored the envelope, with Nats-Msg-Id <connectionId>:<invocationId> (CAP headers off)', async () => {
    await fixture.jsm.streams.add({ name: 'ORDERS', subjects: ['im.default.receive.orders.>'] })
    const server = await node({ config: { nats: { capHeaders: false }, jetstream: { forward: ['im.default.receive.>'] } } })
    const connection = await client(server)

    await connection.invoke('publish', 'orders.created', { id: 42 })

    // Stored by the time invoke resolved: no waiting here.
    const stored = await storedIn('ORDERS')
    expect(stored).toHaveLength(1)
    expect(stored[0]!.subject).toBe('im.default.receive.orders.created')
    expect(stored[0]!.json).toMatchObject({ hub: 'default', method: 'publish', topic: 'orders.created', args: [{ id: 42 }], connectionId: connection.connectionId })
    expect(stored[0]!.msgId).toMatch(new RegExp(`^${connection.connectionId}:\\d+$`))
  })

  it('stores a retried call once: the same Nats-Msg-Id within the duplicate window is a duplicate', async () => {
    await fixture.jsm.streams.add({ name: 'ORDERS', subjects: ['im.default.receive.orders.>'] })
    const server = await node({ config: { jetstream: { forward: ['im.default.receive.>'] } } })
    const data = encoder.encode(JSON.stringify({ retry: true }))
    await server.bus.publish('im.default.receive.orders.paid', data, { durable: true, msgId: 'conn-1:7' })
    await server.bus.publish('im.default.receive.orders.paid', data, { durable: true, msgId: 'conn-1:7' })
    await server.bus.publish('im.default.receive.orders.paid', data, { durable: true, msgId: 'conn-1:8' })
    expect((await storedIn('ORDERS')).map((m) => m.msgId)).toEqual(['conn-1:7', 'conn-1:8'])
  })

  it('gives each item of publishStream its own id and a non-blocking call a random one (CAP headers off)', async () => {
    await fixture.jsm.streams.add({ name: 'ORDERS', subjects: ['im.default.receive.orders.>'] })
    const server = await node({ config: { nats: { capHeaders: false }, jetstream: { forward: ['im.default.receive.orders.>'] } } })
    const connection = await client(server)
    const { Subject } = await import('@microsoft/signalr')
    const items = new Subject<unknown>()
    const done = connection.invoke('publishStream', 'orders.stream', items)
    items.next(1)
    items.next(2)
    items.complete()
    expect(await done).toBe(2)
    await connection.send('publish', 'orders.fire-and-forget', 'x')
    await vi.waitFor(async () => expect(await storedIn('ORDERS')).toHaveLength(3), WAIT)
    const [first, second, third] = (await storedIn('ORDERS')).map((m) => m.msgId!)
    expect(second).toBe(`${first}:2`)
    expect(third).not.toContain(connection.connectionId!)
  })

  it('fails the invocation with a clear Completion error when no stream holds the subject', async () => {
    const server = await node({ config: { jetstream: { forward: ['im.default.receive.>'] } } })
    const connection = await client(server)
    // A service listening on core NATS must not turn this into a silent success or a vague timeout.
    const listener = fixture.nc.subscribe('im.default.receive.>')
    fixture.onCleanup(async () => listener.unsubscribe())
    const error = await connection.invoke('publish', 'orders.created', 1).catch((e: unknown) => e)
    expect((error as Error).message).toBe(
      "An unexpected error occurred invoking 'publish' on the server. HubException: JetStream did not acknowledge: no stream holds subject im.default.receive.orders.created",
    )
    expect(listener.getReceived()).toBe(0)
  })

  it('makes a @Forward method durable with { durable: true }, without any setting', async () => {
    await fixture.jsm.streams.add({ name: 'PLACED', subjects: ['im.js-orders.placed'] })
    const server = await node({ hubs: [DefaultHub, DurableOrdersHub] })
    const connection = await client(server, undefined, '/signalr-hubs/js-orders')
    await connection.invoke('place', { sku: 'a-1' })
    const stored = await storedIn('PLACED')
    expect(stored).toHaveLength(1)
    expect(stored[0]!.json).toMatchObject({ hub: 'js-orders', method: 'place', args: [{ sku: 'a-1' }] })
    // CAP headers are on by default: the id is the call's numeric cap-msg-id.
    expect(stored[0]!.msgId).toMatch(/^\d+$/)
  })
})

describe('services publishing through JetStream (CAP style)', () => {
  const jwt = { secret: TEST_JWT_SECRET }

  it('creates the stream at start and delivers a CAP publish to the user exactly once', async () => {
    const server = await node({ config: { jwt, jetstream: { stream: 'IM_DEFAULT' } } })
    expect((await fixture.jsm.streams.info('IM_DEFAULT')).config.subjects).toEqual(['im.default.send', 'im.default.send.>', 'im.default.groups.>'])
    const alice = await client(server, 'alice')
    const notify = new Inbox(alice, 'notify')
    const done = new Inbox(alice, 'done')

    await capPublish('im.default.send.user', { UserId: 'alice', Method: 'notify', Data: { order: 7 } }, 'cap-1')
    expect(await notify.next()).toEqual([{ order: 7 }])
    // A plain core publish on a stream subject is captured by the stream too: still once.
    await settle(done, async () => fixture.nc.publish('im.default.send', JSON.stringify({ method: 'done' })))
    expect(notify.received).toHaveLength(1)
  })

  it('reaches the connections of two nodes once each', async () => {
    const config = { jwt, jetstream: { stream: 'IM_DEFAULT' } }
    const [a, b] = [await node({ config }), await node({ config })]
    const [onA, onB] = [await client(a, 'alice'), await client(b, 'alice')]
    const inboxes = [new Inbox(onA, 'notify'), new Inbox(onB, 'notify')]
    const sentinels = [new Inbox(onA, 'done'), new Inbox(onB, 'done')]

    await capPublish('im.default.send.user', { userId: 'alice', method: 'notify', args: ['shipped'] }, 'cap-2')
    await capPublish('im.default.send', { method: 'done' }, 'cap-3')
    for (const [i, inbox] of inboxes.entries()) {
      expect(await inbox.next()).toEqual(['shipped'])
      await sentinels[i]!.next()
      expect(inbox.received).toHaveLength(1)
    }
    // Each node reads through its own consumer.
    const consumers = []
    for await (const info of fixture.jsm.consumers.list('IM_DEFAULT')) consumers.push(info.name)
    expect(consumers.sort()).toEqual([`im-${a.nodeId}`, `im-${b.nodeId}`].sort())
  })

  it('skips a publisher retry with the same cap-msg-id', async () => {
    const server = await node({ config: { jwt, jetstream: { stream: 'IM_DEFAULT' } } })
    const alice = await client(server, 'alice')
    const notify = new Inbox(alice, 'notify')
    const done = new Inbox(alice, 'done')
    const body = { userId: 'alice', method: 'notify', args: ['once'] }
    await capPublish('im.default.send.user', body, 'cap-retry')
    await capPublish('im.default.send.user', body, 'cap-retry')
    await settle(done, () => capPublish('im.default.send', { method: 'done' }, 'cap-done'))
    expect(notify.received).toEqual([['once']])
    // The stream stored both (no Nats-Msg-Id); the node skipped the second and counts it.
    const metrics = await (await fetch(`${server.url}/metrics`)).text()
    expect(metrics).toMatch(/^im_jetstream_duplicates_skipped 1$/m)
  })

  it('uses a stream that exists as it is, says what it lacks, and takes that from core NATS', async () => {
    await fixture.jsm.streams.add({ name: 'IM_DEFAULT', subjects: ['im.default.send.>'], max_msgs: 1000 })
    const lines: string[] = []
    const logger = capture(lines)
    const server = await node({ config: { jwt, jetstream: { stream: 'IM_DEFAULT' } }, logger })
    const info = await fixture.jsm.streams.info('IM_DEFAULT')
    expect(info.config.subjects).toEqual(['im.default.send.>'])
    expect(info.config.max_msgs).toBe(1000)
    expect(lines.join('\n')).toContain('JetStream stream IM_DEFAULT exists but does not hold im.default.send, im.default.groups.>; IMService leaves the stream unchanged')

    const alice = await client(server, 'alice')
    const all = new Inbox(alice, 'all')
    const done = new Inbox(alice, 'done')
    fixture.nc.publish('im.default.send', JSON.stringify({ method: 'all' }))
    expect(await all.next()).toEqual([])
    await settle(done, () => capPublish('im.default.send.user', { userId: 'alice', method: 'done' }, 'cap-4'))
    expect(all.received).toHaveLength(1)
  })
})

describe('catching up after NATS was away', () => {
  const jwt = { secret: TEST_JWT_SECRET }

  it('delivers what was stored while the node had lost its NATS connection, once', async () => {
    const proxy = await startCutProxy(fixture.nats.port)
    fixture.onCleanup(() => proxy.close())
    const server = await node({ natsUrl: proxy.url, config: { jwt, jetstream: { stream: 'IM_DEFAULT' } } })
    const alice = await client(server, 'alice')
    const notify = new Inbox(alice, 'notify')
    await capPublish('im.default.send.user', { userId: 'alice', method: 'notify', args: [0] }, 'live-0')
    expect(await notify.next()).toEqual([0])

    proxy.cut()
    await vi.waitFor(() => expect(server.bus.status().state).toBe('reconnecting'), WAIT)
    for (let i = 1; i <= 3; i++) await capPublish('im.default.send.user', { userId: 'alice', method: 'notify', args: [i] }, `away-${i}`)
    proxy.restore()

    for (let i = 1; i <= 3; i++) expect(await notify.next(15_000)).toEqual([i])
    const done = new Inbox(alice, 'done')
    await settle(done, () => capPublish('im.default.send', { method: 'done' }, 'away-done'))
    expect(notify.received).toEqual([[0], [1], [2], [3]])
  })

  it('delivers what was published after a nats-server restart with the same store, once', async () => {
    const own = await startNatsServer({ jetstream: true })
    fixture.onCleanup(() => own.stop())
    const server = await node({ natsUrl: own.url, config: { jwt, jetstream: { stream: 'IM_DEFAULT' } } })
    const alice = await client(server, 'alice')
    const notify = new Inbox(alice, 'notify')
    const service = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 })
    fixture.onCleanup(() => service.close())
    await capPublish('im.default.send.user', { userId: 'alice', method: 'notify', args: [0] }, 'r-0', service)
    expect(await notify.next()).toEqual([0])

    await own.restart()
    // The service is back first (it retries every 50 ms; the node every 2 s): these wait in the stream.
    for (let i = 1; i <= 3; i++) {
      await vi.waitFor(() => capPublish('im.default.send.user', { userId: 'alice', method: 'notify', args: [i] }, `r-${i}`, service), WAIT)
    }
    for (let i = 1; i <= 3; i++) expect(await notify.next(15_000)).toEqual([i])
    const done = new Inbox(alice, 'done')
    await settle(done, () => capPublish('im.default.send', { method: 'done' }, 'r-done', service))
    expect(notify.received).toEqual([[0], [1], [2], [3]])
  })
})

describe('the stream feed of a node', () => {
  const settings = { stream: 'FEED', subjects: ['feed.>'], duplicateWindowMs: 60_000, maxAgeMs: 60_000 }

  it('acknowledges after the handler settled and skips the redelivery of a message still being handled', async () => {
    const handled: string[] = []
    let release!: () => void
    const slow = new Promise<void>((resolve) => (release = resolve))
    const feed = new StreamFeed(fixture.nc, {
      ...settings,
      consumer: 'feed-redelivery',
      inactiveThresholdMs: 60_000,
      ackWaitMs: 300,
      logger: silentLogger,
      deliver: (message) => {
        handled.push(message.subject)
        return message.subject === 'feed.slow' ? slow : undefined
      },
    })
    fixture.onCleanup(() => feed.stop())
    expect(await feed.start()).toEqual(['feed.>'])
    const js = jetstream(fixture.nc)
    await js.publish('feed.slow', '1')
    // Unacknowledged past its ack wait: the server sends it again.
    await vi.waitFor(() => expect(feed.duplicatesSkipped).toBeGreaterThanOrEqual(1), WAIT)
    release()
    await js.publish('feed.next', '2')
    await vi.waitFor(() => expect(handled).toEqual(['feed.slow', 'feed.next']), WAIT)
    await vi.waitFor(async () => expect((await fixture.jsm.consumers.info('FEED', 'feed-redelivery')).num_ack_pending).toBe(0), WAIT)
  })

  it('leaves the cleanup of a consumer whose node is gone to the server (inactive threshold)', async () => {
    const feed = new StreamFeed(fixture.nc, { ...settings, consumer: 'feed-gone', inactiveThresholdMs: 1000, logger: silentLogger, deliver: () => undefined })
    await feed.start()
    await feed.stop()
    await vi.waitFor(async () => expect(await fixture.jsm.consumers.info('FEED', 'feed-gone').then(() => 'present', () => 'deleted')).toBe('deleted'), WAIT)
  })
})

function capture(lines: string[]): Logger {
  const write = (message: string, fields?: LogFields): void => void lines.push(`${message} ${fields ? JSON.stringify(fields) : ''}`)
  return { debug: () => undefined, info: write, warn: write, error: write }
}

/** A loopback TCP proxy to NATS whose connections can be cut (and new ones refused) until restored. */
async function startCutProxy(port: number): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  let open = true
  const server: Server = createServer((client) => {
    if (!open) return void client.destroy()
    const upstream = createConnection({ host: '127.0.0.1', port })
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => socket.destroy())
      socket.on('close', () => sockets.delete(socket))
    }
    client.pipe(upstream).pipe(client)
    client.once('close', () => upstream.destroy())
    upstream.once('close', () => client.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  return {
    url: `nats://127.0.0.1:${address.port}`,
    cut() {
      open = false
      for (const socket of sockets) socket.destroy()
    },
    restore() {
      open = true
    },
    close: () => {
      for (const socket of sockets) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
