/**
 * Offline delivery against a real nats-server with JetStream, two nodes and the official client:
 * `"durable": true` messages for a user with no connection are kept and delivered once, in order,
 * at the next connect (any node, any transport), also when every node was down when they were
 * published; what a connected user got live is not delivered again; non-durable messages are never
 * kept; the per-user bound and the time bound hold; a malformed `durable` is refused. A custom hub
 * handling its own `im.<hub>.send.user` gets the same, apart from the DefaultHub.
 */
import * as signalR from '@microsoft/signalr'
import { describe, expect, it, vi } from 'vitest'
import type { ImConfigInput } from '../../src/config/config.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { Inbox, buildClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { Hub, HubBase, HubMethod } from '../../src/index.js'
import { InboxHub } from '../fixtures/hubs/inbox-hub.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer, TestServerOptions } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const SORTER = 'im-offline-sorter'
const INBOX_SORTER = 'im-offline-sorter-inbox'
const INBOX = '/signalr-hubs/inbox'

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

/** The DefaultHub's subjects and the inbox hub's user subject captured, both hubs served. */
const withInbox: TestServerOptions = {
  hubs: [DefaultHub, InboxHub],
  config: { ...config(), jetstream: { stream: 'IM_DEFAULT', subjects: ['im.default.send', 'im.default.send.>', 'im.default.groups.>', 'im.inbox.send.user'], offline: { enabled: true } } },
}

/** A node with offline delivery whose sorter consumers exist, so that what is published from now on is kept. */
async function node(options: TestServerOptions = {}, sorters: readonly string[] = [SORTER]): Promise<TestServer> {
  const server = await fixture.node({ config: config(), ...options })
  for (const sorter of sorters) await vi.waitFor(() => fixture.jsm.consumers.info('IM_DEFAULT', sorter), WAIT)
  return server
}

/** A signed-in official client whose `notify` inbox listens before it connects (a replay comes right after the handshake). */
async function client(server: TestServer, userId: string, transport?: signalR.HttpTransportType, hubPath?: string): Promise<{ connection: TestClient; notify: Inbox }> {
  const connection = buildClient(server.hubUrl(hubPath), { accessToken: await tokenFor(userId), ...(transport !== undefined ? { transport } : {}) })
  const notify = new Inbox(connection, 'notify')
  fixture.onCleanup(() => connection.stop())
  await connection.start()
  return { connection, notify }
}

/** A service's plain core publish: the stream captures it. */
function sendUser(userId: string, method: string, args: unknown[], extra: Record<string, unknown> = { durable: true }, hub = 'default'): void {
  fixture.nc.publish(`im.${hub}.send.user`, JSON.stringify({ userId, method, args, ...extra }))
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
async function settle(connection: TestClient, userId: string, hub = 'default'): Promise<void> {
  const done = new Inbox(connection, 'done')
  sendUser(userId, 'done', [], { durable: true }, hub)
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

  it("keeps a custom hub's durable messages apart from the DefaultHub's: each is delivered once, at the next connect to its own hub", async () => {
    const a = await node(withInbox, [SORTER, INBOX_SORTER])
    const b = await node(withInbox, [SORTER, INBOX_SORTER])
    sendUser('nora', 'notify', ['inbox-1'], { durable: true }, 'inbox')
    sendUser('nora', 'notify', ['default-1'])
    sendUser('nora', 'notify', ['inbox-2'], { durable: true }, 'inbox')
    await untilKept(3)

    const onDefault = await client(b, 'nora')
    expect(await onDefault.notify.next()).toEqual(['default-1'])
    const onInbox = await client(b, 'nora', undefined, INBOX)
    expect([await onInbox.notify.next(), await onInbox.notify.next()]).toEqual([['inbox-1'], ['inbox-2']])
    // Live, a durable message of one hub reaches that hub's connection only.
    sendUser('nora', 'notify', ['inbox-live'], { durable: true }, 'inbox')
    expect(await onInbox.notify.next()).toEqual(['inbox-live'])
    await settle(onInbox.connection, 'nora', 'inbox')
    await settle(onDefault.connection, 'nora')
    expect(onInbox.notify.received).toEqual([['inbox-1'], ['inbox-2'], ['inbox-live']])
    expect(onDefault.notify.received).toEqual([['default-1']])

    // New connections on the other node, of either hub, get nothing again.
    const againInbox = await client(a, 'nora', signalR.HttpTransportType.LongPolling, INBOX)
    const againDefault = await client(a, 'nora')
    await settle(againInbox.connection, 'nora', 'inbox')
    await settle(againDefault.connection, 'nora')
    expect([...againInbox.notify.received, ...againDefault.notify.received]).toEqual([])
  })

  it('serves a node without the DefaultHub, for its custom hub', async () => {
    const server = await node({ ...withInbox, hubs: [InboxHub] }, [INBOX_SORTER])
    sendUser('otto', 'notify', ['kept'], { durable: true }, 'inbox')
    await untilKept(1)
    const { connection: otto, notify } = await client(server, 'otto', undefined, INBOX)
    expect(await notify.next()).toEqual(['kept'])
    await settle(otto, 'otto', 'inbox')
    expect(notify.received).toEqual([['kept']])
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

  it('refuses to start when none of its hubs can have it, saying why for each', async () => {
    await expect(startTestServer({ natsUrl: fixture.nats.url, hubs: [OtherHub, InboxHub], config: config() })).rejects.toThrow(
      'offline delivery (IM_OFFLINE_DELIVERY) has no hub to keep messages for (hub other: it has no @Subscribe handler of im.other.send.user; ' +
        'hub inbox: jetstream.subjects (IM_JETSTREAM_SUBJECTS: im.default.send, im.default.send.>, im.default.groups.>) do not hold im.inbox.send.user)',
    )
  })

  it('leaves out, saying why, a hub whose user subject the stream does not capture, and keeps nothing for it', async () => {
    const lines: string[] = []
    const server = await node({ hubs: [DefaultHub, InboxHub], config: config(), logger: capture(lines) })
    expect(lines.join('\n')).toContain(
      'offline delivery: hub inbox keeps nothing for offline users: jetstream.subjects (IM_JETSTREAM_SUBJECTS: im.default.send, im.default.send.>, im.default.groups.>) do not hold im.inbox.send.user',
    )
    sendUser('pia', 'notify', ['not kept'], { durable: true }, 'inbox')
    await fixture.nc.flush()
    const { connection: pia, notify } = await client(server, 'pia', undefined, INBOX)
    await settle(pia, 'pia', 'inbox')
    expect(notify.received).toEqual([])
    await expect(fixture.jsm.consumers.info('IM_DEFAULT', INBOX_SORTER)).rejects.toThrow()
  })
})
