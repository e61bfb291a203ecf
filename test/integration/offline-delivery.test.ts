/**
 * Offline delivery against a real nats-server with JetStream, two nodes and the official client:
 * `"durable": true` messages for a user with no connection are kept and delivered once, in order,
 * at the next connect (any node, any transport), also when every node was down when they were
 * published; what a connected user got live is not delivered again; non-durable messages are never
 * kept; the per-user bound and the time bound hold; a malformed `durable` is refused.
 */
import * as signalR from '@microsoft/signalr'
import { describe, expect, it, vi } from 'vitest'
import type { ImConfigInput } from '../../src/config/config.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { Inbox, buildClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { Hub, HubBase, HubMethod } from '../../src/index.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer, TestServerOptions } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const SORTER = 'im-offline-sorter'

const fixture = jetStreamFixture()

@Hub({ name: 'other' })
class OtherHub extends HubBase {
  @HubMethod()
  ping(): string {
    return 'pong'
  }
}

function config(offline: Record<string, unknown> = {}): ImConfigInput {
  return { jwt: { secret: TEST_JWT_SECRET }, jetstream: { stream: 'IM_DEFAULT', offline: { enabled: true, ...offline } } }
}

/** A node with offline delivery whose sorter consumer exists, so that what is published from now on is kept. */
async function node(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await fixture.node({ config: config(), ...options })
  await vi.waitFor(() => fixture.jsm.consumers.info('IM_DEFAULT', SORTER), WAIT)
  return server
}

/** A signed-in official client whose `notify` inbox listens before it connects (a replay comes right after the handshake). */
async function client(server: TestServer, userId: string, transport?: signalR.HttpTransportType): Promise<{ connection: TestClient; notify: Inbox }> {
  const connection = buildClient(server.hubUrl(), { accessToken: await tokenFor(userId), ...(transport !== undefined ? { transport } : {}) })
  const notify = new Inbox(connection, 'notify')
  fixture.onCleanup(() => connection.stop())
  await connection.start()
  return { connection, notify }
}

/** A service's plain core publish: the stream captures it. */
function sendUser(userId: string, method: string, args: unknown[], extra: Record<string, unknown> = { durable: true }): void {
  fixture.nc.publish('im.default.send.user', JSON.stringify({ userId, method, args, ...extra }))
}

/** Resolves once the store holds `count` messages (what was published before is sorted by then). */
async function untilKept(count: number): Promise<void> {
  await fixture.nc.flush()
  await vi.waitFor(async () => expect((await fixture.jsm.streams.info('IM_OFFLINE')).state.messages).toBe(count), WAIT)
}

/** How many messages the nodes' sorters copied into the store (a message for two users counts once). */
async function sortedBy(...servers: TestServer[]): Promise<number> {
  let total = 0
  for (const server of servers) total += Number(/^im_offline_messages_sorted (\d+)$/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1])
  return total
}

/**
 * Sends a durable sentinel to a connected user and waits for it: whatever the connection was given
 * before (a replay, a repeat) has arrived by then, so the counts are final without sleeping.
 */
async function settle(connection: TestClient, userId: string): Promise<void> {
  const done = new Inbox(connection, 'done')
  sendUser(userId, 'done', [])
  await done.next(10_000)
}

function capture(lines: string[]): Logger {
  const log = (message: string, fields?: LogFields): void => void lines.push(`${message} ${JSON.stringify(fields ?? {})}`)
  return { debug: () => undefined, info: log, warn: log, error: log }
}

describe('offline delivery', () => {
  it('delivers durable messages kept for an offline user once and in order at the next connect, on the other node', async () => {
    const a = await node()
    const b = await node()
    for (let i = 1; i <= 3; i++) sendUser('carol', 'notify', [i])
    await untilKept(3)

    const { connection: carol, notify } = await client(b, 'carol')
    for (let i = 1; i <= 3; i++) expect(await notify.next()).toEqual([i])
    await settle(carol, 'carol')
    expect(notify.received).toEqual([[1], [2], [3]])
    // The cluster's one sorter copied each message once, whichever node took it.
    await vi.waitFor(async () => expect(await sortedBy(a, b)).toBe(4), WAIT)
    // The other node delivers nothing again to a second connection of hers.
    const { connection: again, notify: repeated } = await client(a, 'carol')
    await settle(again, 'carol')
    expect(repeated.received).toEqual([])
  })

  it('delivers them over Server-Sent Events and long polling alike, before the live messages that follow, durable or not', async () => {
    await node()
    for (const [user, transport] of [['dave', signalR.HttpTransportType.ServerSentEvents], ['erin', signalR.HttpTransportType.LongPolling]] as const) {
      const server = await node()
      sendUser(user, 'notify', ['kept-1'])
      sendUser(user, 'notify', ['kept-2'])
      const { connection, notify } = await client(server, user, transport)
      sendUser(user, 'notify', ['live'])
      sendUser(user, 'notify', ['live, not durable'], {})
      expect([await notify.next(), await notify.next(), await notify.next(), await notify.next()]).toEqual([['kept-1'], ['kept-2'], ['live'], ['live, not durable']])
      await settle(connection, user)
      expect(notify.received).toHaveLength(4)
    }
  })

  it('does not deliver again at the next connect what a connected user got live, nor on a reconnect', async () => {
    const a = await node()
    const b = await node()
    const { connection: first, notify } = await client(a, 'frank')
    sendUser('frank', 'notify', ['live'])
    expect(await notify.next()).toEqual(['live'])
    await untilKept(1)
    await first.stop()

    const { connection: second, notify: repeated } = await client(b, 'frank')
    await settle(second, 'frank')
    await second.stop()
    const { connection: third, notify: repeatedAgain } = await client(a, 'frank', signalR.HttpTransportType.LongPolling)
    await settle(third, 'frank')
    expect([...repeated.received, ...repeatedAgain.received]).toEqual([])
  })

  it('never delivers later a message that was not durable', async () => {
    const server = await node()
    sendUser('gina', 'notify', ['not kept'], {})
    sendUser('gina', 'notify', ['kept'], { durable: false })
    sendUser('gina', 'notify', ['kept'])
    await untilKept(1)
    const { connection: gina, notify } = await client(server, 'gina')
    await settle(gina, 'gina')
    expect(notify.received).toEqual([['kept']])
  })

  it('delivers at the next connect what was published while every node was down', async () => {
    const first = await node()
    const second = await node()
    await first.close()
    await second.close()
    for (let i = 1; i <= 3; i++) sendUser('hugo', 'notify', [i])
    await fixture.nc.flush()
    await vi.waitFor(async () => expect((await fixture.jsm.consumers.info('IM_DEFAULT', SORTER)).num_pending).toBe(3), WAIT)

    const restarted = await node()
    const { connection: hugo, notify } = await client(restarted, 'hugo')
    for (let i = 1; i <= 3; i++) expect(await notify.next()).toEqual([i])
    await settle(hugo, 'hugo')
    expect(notify.received).toHaveLength(3)
  })

  it('keeps at most maxPerUser messages per user, dropping the oldest', async () => {
    const server = await node({ config: config({ maxPerUser: 2 }) })
    for (let i = 1; i <= 4; i++) sendUser('ines', 'notify', [i])
    sendUser('jack', 'notify', ['other user'])
    await fixture.nc.flush()
    await vi.waitFor(async () => expect(await sortedBy(server)).toBe(5), WAIT)
    await untilKept(3)
    const { connection: ines, notify } = await client(server, 'ines')
    expect([await notify.next(), await notify.next()]).toEqual([[3], [4]])
    await settle(ines, 'ines')
    expect(notify.received).toEqual([[3], [4]])
  })

  it('lets a kept message expire after ttlMs', async () => {
    const server = await node({ config: config({ ttlMs: 1000 }) })
    sendUser('kate', 'notify', ['expires'])
    await fixture.nc.flush()
    await vi.waitFor(async () => expect(await sortedBy(server)).toBe(1), WAIT)
    await untilKept(0)
    const { connection: kate, notify } = await client(server, 'kate')
    await settle(kate, 'kate')
    expect(notify.received).toEqual([])
  })

  it('starts over when the capturing stream is made anew, so that its new sequences are not taken as delivered', async () => {
    const before = await node()
    const first = await client(before, 'mia')
    sendUser('mia', 'notify', ['old'])
    expect(await first.notify.next()).toEqual(['old'])
    await untilKept(1)
    await first.connection.stop()
    await before.close()
    await fixture.jsm.streams.delete('IM_DEFAULT')

    const lines: string[] = []
    const after = await node({ config: config(), logger: capture(lines) })
    expect(lines.join('\n')).toContain('offline delivery: stream IM_DEFAULT was made anew; the messages kept from the old one and the delivery cursors are dropped')
    sendUser('mia', 'notify', ['new'])
    await fixture.nc.flush()
    await vi.waitFor(async () => expect(await sortedBy(after)).toBe(1), WAIT)
    const { connection, notify } = await client(after, 'mia')
    expect(await notify.next()).toEqual(['new'])
    await settle(connection, 'mia')
    expect(notify.received).toEqual([['new']])
  })

  it('refuses a durable value that is not a boolean, saying so, and keeps nothing', async () => {
    const lines: string[] = []
    const server = await node({ config: config(), logger: capture(lines) })
    const { connection: liam, notify } = await client(server, 'liam')
    sendUser('liam', 'notify', ['refused'], { durable: 'yes' })
    await settle(liam, 'liam')
    expect(notify.received).toEqual([])
    expect(lines.join('\n')).toContain("dropped a message on im.default.send.user: payload does not match the type of sendToUsers: '/durable' must be boolean")
    // Only the sentinel was kept.
    await untilKept(1)
  })
})

describe('offline delivery set-up', () => {
  it('says precisely why it cannot keep anything when the existing stream does not hold the user subject', async () => {
    await fixture.jsm.streams.add({ name: 'IM_DEFAULT', subjects: ['im.default.send', 'im.default.groups.>'] })
    const lines: string[] = []
    await fixture.node({ config: config(), logger: capture(lines) })
    await vi.waitFor(
      () => expect(lines.join('\n')).toContain('offline delivery cannot start: stream IM_DEFAULT exists but does not hold im.default.send.user, so nothing could be kept: add the subject to it or name another stream'),
      WAIT,
    )
  })


  it('refuses to start on the embedded bus, saying it needs NATS with JetStream', async () => {
    await expect(startTestServer({ config: config() })).rejects.toThrow('offline delivery (IM_OFFLINE_DELIVERY) needs NATS with JetStream; this node runs on the embedded bus: set IM_NATS_URL')
  })

  it('refuses to start without the DefaultHub, whose messages it keeps', async () => {
    await expect(startTestServer({ natsUrl: fixture.nats.url, hubs: [OtherHub], config: config() })).rejects.toThrow(
      'offline delivery (IM_OFFLINE_DELIVERY) keeps messages of im.default.send.user for the DefaultHub, which this node does not serve',
    )
  })
})
