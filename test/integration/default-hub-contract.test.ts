/**
 * Every row of the DefaultHub wire contract (docs/service-api.md), driven the way users drive it:
 * a service publishes on a real nats-server, browsers are official @microsoft/signalr clients.
 */
import { describe, expect, it } from 'vitest'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

// Open topic rules: this suite is about the wire contract, anonymous envelopes included;
// topic-access.test.ts covers who may publish and watch.
const fixture = natsFixture({ nodes: [{ config: { jwt: { secret: TEST_JWT_SECRET }, topics: { rules: [{ pattern: '>', watch: 'anyone', publish: 'anyone' }] } } }] })

async function client(userId?: string): Promise<TestClient> {
  const c = await connectClient(fixture.server.hubUrl(), userId ? { accessToken: await tokenFor(userId) } : {})
  fixture.hold(c)
  return c
}

/** After `probe` reaches `inbox`, anything published before it has been delivered or dropped. */
async function settle(inbox: Inbox, target: Record<string, unknown>): Promise<void> {
  await fixture.service.publish('im.default.send.client', { ...target, method: 'probe' })
  await inbox.next()
}

describe('im.default.send', () => {
  it('reaches every connection, anonymous and authenticated', async () => {
    const [anonymous, alice] = await Promise.all([client(), client('alice')])
    const inboxes = [new Inbox(anonymous, 'refreshTable'), new Inbox(alice, 'refreshTable')]
    await fixture.service.publish('im.default.send', { method: 'refreshTable', args: ['orders', 3] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['orders', 3])
  })

  it('leaves out excludeConnectionIds', async () => {
    const [kept, excluded] = await Promise.all([client(), client()])
    const keptInbox = new Inbox(kept, 'news')
    const excludedInbox = new Inbox(excluded, 'news')
    const excludedProbe = new Inbox(excluded, 'probe')
    await fixture.service.publish('im.default.send', { method: 'news', args: [1], excludeConnectionIds: [excluded.connectionId] })
    expect(await keptInbox.next()).toEqual([1])
    await settle(excludedProbe, { connectionId: excluded.connectionId })
    expect(excludedInbox.received).toEqual([])
  })

  it('takes data as a one-argument args and matches property names ignoring case', async () => {
    const c = await client()
    const inbox = new Inbox(c, 'orderChanged')
    await fixture.service.publish('im.default.send', { Method: 'orderChanged', Data: { id: 7 } })
    expect(await inbox.next()).toEqual([{ id: 7 }])
    await fixture.service.publish('im.default.send', { method: 'orderChanged' })
    expect(await inbox.next()).toEqual([])
  })
})

describe('im.default.send.client', () => {
  it('reaches the one connection named by connectionId', async () => {
    const [target, other] = await Promise.all([client(), client()])
    const inbox = new Inbox(target, 'direct')
    const otherInbox = new Inbox(other, 'direct')
    const otherProbe = new Inbox(other, 'probe')
    await fixture.service.publish('im.default.send.client', { connectionId: target.connectionId, method: 'direct', args: ['hi'] })
    expect(await inbox.next()).toEqual(['hi'])
    await settle(otherProbe, { connectionId: other.connectionId })
    expect(otherInbox.received).toEqual([])
  })

  it('reaches each connection of connectionIds once', async () => {
    const [a, b] = await Promise.all([client(), client()])
    const inboxes = [new Inbox(a, 'direct'), new Inbox(b, 'direct')]
    await fixture.service.publish('im.default.send.client', { connectionIds: [a.connectionId, b.connectionId, a.connectionId], method: 'direct', args: [2] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual([2])
    const probe = new Inbox(a, 'probe')
    await settle(probe, { connectionId: a.connectionId })
    expect(inboxes[0]!.received).toHaveLength(1)
  })
})

describe('im.default.send.user', () => {
  it("reaches every connection of the user, and only the user's", async () => {
    const [bob1, bob2, carol, anonymous] = await Promise.all([client('bob'), client('bob'), client('carol'), client()])
    const bobInboxes = [new Inbox(bob1, 'mail'), new Inbox(bob2, 'mail')]
    const carolInbox = new Inbox(carol, 'mail')
    const anonymousInbox = new Inbox(anonymous, 'mail')
    await fixture.service.publish('im.default.send.user', { userId: 'bob', method: 'mail', args: ['for bob'] })
    for (const inbox of bobInboxes) expect(await inbox.next()).toEqual(['for bob'])
    await settle(new Inbox(carol, 'probe'), { connectionId: carol.connectionId })
    await settle(new Inbox(anonymous, 'probe'), { connectionId: anonymous.connectionId })
    expect(carolInbox.received).toEqual([])
    expect(anonymousInbox.received).toEqual([])
  })

  it('reaches several users with userIds', async () => {
    const [dave, erin] = await Promise.all([client('dave'), client('erin')])
    const inboxes = [new Inbox(dave, 'mail'), new Inbox(erin, 'mail')]
    await fixture.service.publish('im.default.send.user', { userIds: ['dave', 'erin'], method: 'mail', data: 'both' })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['both'])
  })
})

describe('groups', () => {
  it('im.default.groups.add by connectionId, then send.group reaches the member only', async () => {
    const [member, outsider] = await Promise.all([client(), client()])
    const memberInbox = new Inbox(member, 'roomMessage')
    const outsiderInbox = new Inbox(outsider, 'roomMessage')
    await fixture.service.publish('im.default.groups.add', { group: 'room-1', connectionId: member.connectionId })
    await fixture.service.publish('im.default.send.group', { group: 'room-1', method: 'roomMessage', args: ['hello room'] })
    expect(await memberInbox.next()).toEqual(['hello room'])
    await settle(new Inbox(outsider, 'probe'), { connectionId: outsider.connectionId })
    expect(outsiderInbox.received).toEqual([])
  })

  it('im.default.groups.add by userId adds every connection of the user; .remove takes them out', async () => {
    const [f1, f2] = await Promise.all([client('frank'), client('frank')])
    const inboxes = [new Inbox(f1, 'roomMessage'), new Inbox(f2, 'roomMessage')]
    await fixture.service.publish('im.default.groups.add', { group: 'room-2', userId: 'frank' })
    await fixture.service.publish('im.default.send.group', { group: 'room-2', method: 'roomMessage', args: ['in'] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['in'])
    await fixture.service.publish('im.default.groups.remove', { group: 'room-2', userId: 'frank' })
    await fixture.service.publish('im.default.send.group', { group: 'room-2', method: 'roomMessage', args: ['out'] })
    await settle(new Inbox(f1, 'probe'), { connectionId: f1.connectionId })
    expect(inboxes[0]!.received).toEqual([['in']])
  })

  it('im.default.groups.remove by connectionId; send.group with groups and excludeConnectionIds', async () => {
    const [a, b, c] = await Promise.all([client(), client(), client()])
    const inboxes = [a, b, c].map((x) => new Inbox(x, 'roomMessage'))
    await fixture.service.publish('im.default.groups.add', { group: 'red', connectionId: a.connectionId })
    await fixture.service.publish('im.default.groups.add', { group: 'blue', connectionId: b.connectionId })
    await fixture.service.publish('im.default.groups.add', { group: 'blue', connectionId: c.connectionId })
    await fixture.service.publish('im.default.groups.add', { group: 'red', connectionId: c.connectionId })
    await fixture.service.publish('im.default.groups.remove', { group: 'blue', connectionId: b.connectionId })
    await fixture.service.publish('im.default.send.group', { groups: ['red', 'blue'], method: 'roomMessage', args: ['x'], excludeConnectionIds: [a.connectionId] })
    // c is in both groups and gets the message once; a is excluded; b left blue.
    expect(await inboxes[2]!.next()).toEqual(['x'])
    for (const x of [a, b, c]) await settle(new Inbox(x, 'probe'), { connectionId: x.connectionId })
    expect(inboxes.map((i) => i.received.length)).toEqual([0, 0, 1])
  })
})

describe('publish(topic, ...args) from clients', () => {
  it('forwards to im.default.receive.<topic> with the full envelope and completes', async () => {
    const listener = await fixture.service.listen('im.default.receive.>')
    const alice = await client('alice')
    await expect(alice.invoke('publish', 'orders.created', { id: 42 }, 'second')).resolves.toBeNull()
    const message = await listener.next()
    expect(message.subject).toBe('im.default.receive.orders.created')
    expect(message.json).toMatchObject({
      hub: 'default',
      method: 'publish',
      topic: 'orders.created',
      args: [{ id: 42 }, 'second'],
      connectionId: alice.connectionId,
      userId: 'alice',
      node: fixture.server.nodeId,
    })
    expect(Date.parse((message.json as { timestamp: string }).timestamp)).not.toBeNaN()
  })

  it('refuses a topic that is not tokens of [A-Za-z0-9_-] and never reaches NATS', async () => {
    const listener = await fixture.service.listen('im.default.receive.>')
    const c = await client()
    const bad = ['*', 'orders.>', 'has space', '', 'a..b', '.a', 'a.', '$SYS', 'x'.repeat(129)]
    for (const topic of bad) {
      await expect(c.invoke('publish', topic, 1)).rejects.toThrow(
        new RegExp(`^An unexpected error occurred invoking 'publish' on the server\\. HubException: Invalid topic '.*'`),
      )
    }
    // `topic: string` is checked before the hub runs, with ASP.NET's binder wording.
    await expect(c.invoke('publish', 42, 1)).rejects.toThrow(/^Failed to invoke 'publish' due to an error on the server\.$/)
    await expect(c.invoke('publish', { toString: 1 }, 1)).rejects.toThrow(/^Failed to invoke 'publish' due to an error on the server\.$/)
    await c.invoke('publish', 'ok', 'after')
    // The first message NATS saw is the valid one: none of the refused topics got through.
    expect((await listener.next()).subject).toBe('im.default.receive.ok')
  })

  it('gives an anonymous envelope a null userId', async () => {
    const listener = await fixture.service.listen('im.default.receive.anon')
    const c = await client()
    await c.invoke('publish', 'anon')
    expect((await listener.next()).json).toMatchObject({ userId: null, args: [], connectionId: c.connectionId })
  })
})

describe('lifecycle events', () => {
  it('publishes im.default.connected and im.default.disconnected', async () => {
    const connected = await fixture.service.listen('im.default.connected')
    const disconnected = await fixture.service.listen('im.default.disconnected')
    const c = await connectClient(fixture.server.hubUrl(), { accessToken: await tokenFor('gina') })
    const id = c.connectionId
    expect((await connected.nextFor(id)).json).toMatchObject({ connectionId: id, userId: 'gina', transport: 'WebSockets', node: fixture.server.nodeId })
    await c.stop()
    expect((await disconnected.nextFor(id)).json).toMatchObject({ connectionId: id, userId: 'gina', transport: 'WebSockets' })
  })
})

describe('bad payloads from services', () => {
  it('drops a payload that is not JSON, counts it, and delivers the next message', async () => {
    const c = await client()
    const inbox = new Inbox(c, 'afterGarbage')
    const before = fixture.server.metrics.get('bus_payloads_dropped')
    await fixture.service.publishRaw('im.default.send', '{not json')
    await fixture.service.publishRaw('im.default.send', new Uint8Array([0xff, 0xfe, 0x00]))
    await fixture.service.publish('im.default.send', { method: 'afterGarbage', args: [1] })
    expect(await inbox.next()).toEqual([1])
    expect(fixture.server.metrics.get('bus_payloads_dropped')).toBe(before + 2)
  })

  it('drops payloads that lack their fields and delivers the next message', async () => {
    const c = await client()
    const inbox = new Inbox(c, 'valid')
    const before = fixture.server.metrics.get('bus_payloads_dropped')
    await fixture.service.publish('im.default.send', { args: [1] })
    await fixture.service.publish('im.default.send', [1, 2])
    await fixture.service.publish('im.default.send', { method: 'valid', args: 'not an array' })
    await fixture.service.publish('im.default.send.user', { method: 'valid' })
    await fixture.service.publish('im.default.send.client', { connectionId: 5, method: 'valid' })
    await fixture.service.publish('im.default.groups.add', { group: 'g', connectionId: c.connectionId, userId: 'both' })
    await fixture.service.publish('im.default.send.client', { connectionId: c.connectionId, method: 'valid', args: ['ok'] })
    expect(await inbox.next()).toEqual(['ok'])
    expect(inbox.received).toHaveLength(1)
    expect(fixture.server.metrics.get('bus_payloads_dropped')).toBe(before + 6)
  })
})
