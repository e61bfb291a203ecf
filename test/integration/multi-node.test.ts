/**
 * Two IMService nodes on one NATS behave as one service: whichever node holds a connection, it
 * gets what is meant for it exactly once, and a client invocation reaches NATS once.
 */
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({
  nodes: ['node-a', 'node-b'].map((nodeId) => ({ hubs: [DefaultHub, EchoHub], config: { nodeId, jwt: { secret: TEST_JWT_SECRET } } })),
})
const nodeA = (): TestServer => fixture.nodes[0]!
const nodeB = (): TestServer => fixture.nodes[1]!

async function on(node: TestServer, userId?: string, path?: string): Promise<TestClient> {
  const c = await connectClient(node.hubUrl(path), userId ? { accessToken: await tokenFor(userId) } : {})
  fixture.hold(c)
  return c
}

/** A probe sent after `inbox`'s messages: once it arrives, everything before it has too. */
async function drained(c: TestClient): Promise<void> {
  const probe = new Inbox(c, 'probe')
  await fixture.service.publish('im.default.send.client', { connectionId: c.connectionId, method: 'probe' })
  await probe.next()
}

describe('two nodes on one NATS', () => {
  it('a user connected to both nodes gets each user message once per connection', async () => {
    const [onA, onB] = await Promise.all([on(nodeA(), 'uma'), on(nodeB(), 'uma')])
    const inboxes = [new Inbox(onA, 'alert'), new Inbox(onB, 'alert')]
    await fixture.service.publish('im.default.send.user', { userId: 'uma', method: 'alert', args: [1] })
    await fixture.service.publish('im.default.send.user', { userId: 'uma', method: 'alert', args: [2] })
    for (const inbox of inboxes) {
      expect(await inbox.next()).toEqual([1])
      expect(await inbox.next()).toEqual([2])
    }
    await Promise.all([drained(onA), drained(onB)])
    expect(inboxes.map((i) => i.received.length)).toEqual([2, 2])
  })

  it('a message to a connection id reaches it on whichever node holds it', async () => {
    const [onA, onB] = await Promise.all([on(nodeA()), on(nodeB())])
    const inboxA = new Inbox(onA, 'direct')
    const inboxB = new Inbox(onB, 'direct')
    await fixture.service.publish('im.default.send.client', { connectionId: onB.connectionId, method: 'direct', args: ['to b'] })
    await fixture.service.publish('im.default.send.client', { connectionId: onA.connectionId, method: 'direct', args: ['to a'] })
    expect(await inboxB.next()).toEqual(['to b'])
    expect(await inboxA.next()).toEqual(['to a'])
    await Promise.all([drained(onA), drained(onB)])
    expect([inboxA.received, inboxB.received]).toEqual([[['to a']], [['to b']]])
  })

  it('a broadcast reaches the connections of both nodes once each', async () => {
    const [onA, onB] = await Promise.all([on(nodeA()), on(nodeB())])
    const inboxes = [new Inbox(onA, 'everyone'), new Inbox(onB, 'everyone')]
    await fixture.service.publish('im.default.send', { method: 'everyone', args: ['x'] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['x'])
    await Promise.all([drained(onA), drained(onB)])
    expect(inboxes.map((i) => i.received.length)).toEqual([1, 1])
  })

  it('a group spread over both nodes gets one message per member', async () => {
    const [onA, onB] = await Promise.all([on(nodeA(), 'gus'), on(nodeB(), 'gus')])
    const inboxes = [new Inbox(onA, 'room'), new Inbox(onB, 'room')]
    await fixture.service.publish('im.default.groups.add', { group: 'spread', userId: 'gus' })
    await fixture.service.publish('im.default.send.group', { group: 'spread', method: 'room', args: ['hi'] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['hi'])
    await Promise.all([drained(onA), drained(onB)])
    expect(inboxes.map((i) => i.received.length)).toEqual([1, 1])
  })

  it('a client invocation reaches NATS once, stamped with the node that holds the connection', async () => {
    const listener = await fixture.service.listen('im.default.receive.>')
    const onB = await on(nodeB(), 'ivy')
    await onB.invoke('publish', 'once', 1)
    await onB.invoke('publish', 'marker')
    const first = await listener.next()
    expect(first.subject).toBe('im.default.receive.once')
    expect(first.json).toMatchObject({ node: 'node-b', userId: 'ivy', connectionId: onB.connectionId })
    expect((await listener.next()).subject).toBe('im.default.receive.marker')
  })

  it('hub code on one node reaches users, groups and others on the other node', async () => {
    const sender = await on(nodeA(), 'sam', '/hubs/echo')
    const [recipient, bystander] = await Promise.all([on(nodeB(), 'rita', '/hubs/echo'), on(nodeB(), undefined, '/hubs/echo')])
    const told = new Inbox(recipient, 'told')
    const bystanderTold = new Inbox(bystander, 'told')
    await sender.invoke('tellUser', 'rita', 'psst')
    expect(await told.next()).toEqual(['psst', sender.connectionId])

    await recipient.invoke('join', 'club')
    await sender.invoke('tellGroup', 'club', 'club news')
    expect(await told.next()).toEqual(['club news'])

    const senderTold = new Inbox(sender, 'told')
    await sender.invoke('tellOthers', 'to all but me')
    expect(await told.next()).toEqual(['to all but me'])
    expect(await bystanderTold.next()).toEqual(['to all but me'])
    await sender.invoke('tellUser', 'sam', 'to myself')
    expect(await senderTold.next()).toEqual(['to myself', sender.connectionId])
    expect(senderTold.received).toHaveLength(1)
  })

  it('@Forward publishes the typed arguments once', async () => {
    const listener = await fixture.service.listen('svc.orders.create')
    const c = await on(nodeA(), 'olga', '/hubs/echo')
    await expect(c.invoke('createOrder', { sku: 'A-1', quantity: 0 })).rejects.toThrow('HubException: quantity must be positive')
    await expect(c.invoke('createOrder', { sku: 'A-1', quantity: 2 })).resolves.toBeNull()
    expect((await listener.next()).json).toMatchObject({ hub: 'echo', method: 'createOrder', args: [{ sku: 'A-1', quantity: 2 }], userId: 'olga', node: 'node-a' })
  })
})
