/**
 * IMService against DotNetCore.CAP's NATS wire format, both ways, with a real nats-server and the
 * official SignalR client:
 * - a CAP publish (its headers in its order, a PascalCase body) reaches clients once, and CAP's
 *   retry of the same `cap-msg-id` minutes later is dropped by the stream's duplicate window and,
 *   past a shorter stream window, by the node's own;
 * - a CAP subscriber (durable push consumer, explicit ack, its normalized `<group>.v1` queue)
 *   accepts a forwarded envelope: every header CAP reads, a PascalCase body, acknowledged once.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it, vi } from 'vitest'
import { Inbox, connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { capPublish, capStream, capSubscriber } from '../support/cap.js'
import type { TestServer } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const NANOS_PER_MS = 1_000_000
const STREAM_SUBJECTS = ['im.default.send', 'im.default.send.>', 'im.default.groups.>']
/** `new DefaultBroadcastEto("refreshTable", data)` as System.Text.Json writes it by default. */
const BROADCAST = { Method: 'refreshTable', Data: { Table: 'orders', Rows: [1187, 1188] } }

const fixture = jetStreamFixture()

async function client(server: TestServer): Promise<TestClient> {
  const connection = await connectClient(server.hubUrl())
  fixture.onCleanup(() => connection.stop())
  return connection
}

/** Two clients' `refreshTable` inboxes and a sentinel: once the sentinel arrived, the counts are final. */
async function listeners(server: TestServer): Promise<{ inboxes: Inbox[]; settle(): Promise<void> }> {
  const connections = [await client(server), await client(server)]
  const inboxes = connections.map((c) => new Inbox(c, 'refreshTable'))
  const sentinels = connections.map((c) => new Inbox(c, 'done'))
  return {
    inboxes,
    async settle() {
      await capPublish(fixture.nc, 'im.default.send', { Method: 'done' })
      for (const sentinel of sentinels) await sentinel.next()
    },
  }
}

describe('a CAP publish', () => {
  it('reaches every client once, and a retry with the same cap-msg-id is dropped by the 300 s duplicate window', async () => {
    const server = await fixture.node({ config: { hubs: { envelopeCasing: 'pascal' }, jetstream: { stream: 'IMSERVICE' } } })
    expect((await fixture.jsm.streams.info('IMSERVICE')).config.duplicate_window).toBeGreaterThanOrEqual(300_000 * NANOS_PER_MS)
    const { inboxes, settle } = await listeners(server)

    const first = await capPublish(fixture.nc, 'im.default.send', BROADCAST)
    expect(first.id).toMatch(/^\d{18,19}$/)
    // CAP publishes again with the same id when it did not see the acknowledgement (4 minutes on, then every minute).
    const retry = await capPublish(fixture.nc, 'im.default.send', BROADCAST, { id: first.id })
    expect(retry).toMatchObject({ duplicate: true, seq: first.seq })
    await settle()

    for (const inbox of inboxes) expect(inbox.received).toEqual([[BROADCAST.Data]])
    expect((await fixture.jsm.streams.info('IMSERVICE')).state.messages).toBe(2) // the broadcast and the sentinel
  })

  it("drops a retry the stream stored again (its window was shorter) within the node's own window", async () => {
    // A stream made elsewhere, with a 1 s window: the retry below comes after it.
    await fixture.jsm.streams.add({ name: 'IMSERVICE', subjects: STREAM_SUBJECTS, duplicate_window: 1000 * NANOS_PER_MS })
    const server = await fixture.node({ config: { jetstream: { stream: 'IMSERVICE' } } })
    const { inboxes, settle } = await listeners(server)

    const first = await capPublish(fixture.nc, 'im.default.send', BROADCAST)
    await delay(1500)
    const retry = await capPublish(fixture.nc, 'im.default.send', BROADCAST, { id: first.id })
    expect(retry.duplicate).toBe(false)
    await settle()

    for (const inbox of inboxes) expect(inbox.received).toEqual([[BROADCAST.Data]])
    expect(server.bus.duplicatesSkipped).toBe(1)
  })

  it('reaches clients twice when both windows are shorter than the retry (what the 300 s default prevents)', async () => {
    const server = await fixture.node({ config: { jetstream: { stream: 'IMSERVICE', duplicateWindowMs: 1000 } } })
    const { inboxes, settle } = await listeners(server)

    const first = await capPublish(fixture.nc, 'im.default.send', BROADCAST)
    await delay(1500)
    await capPublish(fixture.nc, 'im.default.send', BROADCAST, { id: first.id })
    await settle()

    for (const inbox of inboxes) expect(inbox.received).toEqual([[BROADCAST.Data], [BROADCAST.Data]])
  })
})

describe('a CAP subscriber', () => {
  const SUBJECT = 'im.default.receive.orders.created'

  async function forwardOne(config: object): Promise<{ connection: TestClient; subscriber: Awaited<ReturnType<typeof capSubscriber>> }> {
    // What CAP's subscriber makes for [CapSubscribe("im.default.receive.orders.created", Group = "im-orders")].
    await capStream(fixture.jsm, 'im', [SUBJECT])
    const subscriber = await capSubscriber(fixture.nc, fixture.jsm, 'im', SUBJECT, 'im-orders')
    fixture.onCleanup(() => subscriber.stop())
    const server = await fixture.node({ config: { jetstream: { forward: ['im.default.receive.>'] }, ...config } })
    const connection = await client(server)
    await connection.invoke('publish', 'orders.created', { orderId: 7 })
    return { connection, subscriber }
  }

  it('gets a forwarded envelope with every header CAP reads and a PascalCase body, and acknowledges it once', async () => {
    const { connection, subscriber } = await forwardOne({ hubs: { envelopeCasing: 'pascal' } })
    expect(subscriber).toMatchObject({ queue: 'im-orders_v1', durable: 'im-orders_v1-im_default_receive_orders_created' })
    await vi.waitFor(() => expect(subscriber.deliveries).toHaveLength(1), WAIT)
    const [delivery] = subscriber.deliveries
    const h = Object.fromEntries(delivery!.headers)
    expect(h).toMatchObject({ 'cap-msg-name': SUBJECT, 'cap-msg-type': 'IMService.InvocationEnvelope', 'cap-corr-seq': '0' })
    expect(h['cap-msg-id']).toMatch(/^\d{1,19}$/)
    expect(h['cap-corr-id']).toBe(h['cap-msg-id'])
    expect(h['Nats-Msg-Id']).toBe(h['cap-msg-id'])
    expect(h['cap-senttime']).toMatch(/^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \+00:00$/)
    expect(h).not.toHaveProperty('cap-msg-group')
    // System.Text.Json's default options bind property names case-sensitively: these are the record's names.
    expect(delivery!.body).toEqual({
      Hub: 'default',
      Method: 'publish',
      Topic: 'orders.created',
      Args: [{ orderId: 7 }],
      ConnectionId: connection.connectionId,
      UserId: null,
      Node: expect.any(String),
      Timestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    })
    expect(delivery!.outcome).toBe('ack')

    // No redelivery loop: a second call arrives next, and the consumer has nothing pending or redelivered.
    await connection.invoke('publish', 'orders.created', { orderId: 8 })
    await vi.waitFor(() => expect(subscriber.deliveries).toHaveLength(2), WAIT)
    expect(subscriber.deliveries.map((d) => [d.outcome, d.redelivered])).toEqual([['ack', false], ['ack', false]])
    await vi.waitFor(async () => {
      const info = await fixture.jsm.consumers.info('im', subscriber.durable)
      expect(info).toMatchObject({ num_ack_pending: 0, num_redelivered: 0, delivered: { consumer_seq: 2 }, ack_floor: { consumer_seq: 2 } })
      expect(info.config).toMatchObject({ deliver_group: 'im-orders_v1', ack_policy: 'explicit', filter_subject: SUBJECT })
    }, WAIT)
  })

  it('loops on nak without cap-msg-id (what the CAP headers prevent)', async () => {
    const { subscriber } = await forwardOne({ nats: { capHeaders: false } })
    await vi.waitFor(() => expect(subscriber.deliveries.length).toBeGreaterThanOrEqual(20), WAIT)
    expect(new Set(subscriber.deliveries.map((d) => d.outcome))).toEqual(new Set(['nak']))
    expect(subscriber.deliveries.slice(1).every((d) => d.redelivered)).toBe(true)
  })
})
