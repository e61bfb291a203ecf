/**
 * A hub with a client interface (`HubBase<NoteClient>`), driven by the official client over JSON
 * and MessagePack: typed sends reach the targets they name, and hub code's
 * `clients.client(id).invoke(...)` gets the client's answer from this node or another one, or a
 * precise error when the client throws, does not answer in time or disconnects.
 */
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import type { IHubProtocol } from '@microsoft/signalr'
import { describe, expect, it } from 'vitest'
import type { Asked, Note, Target } from '../fixtures/hubs/typed-hub.js'
import { GreeterHub, TypedHub } from '../fixtures/hubs/typed-hub.js'
import { natsFixture } from '../support/nats-fixture.js'
import { buildClient, connectClient, Inbox } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({
  nodes: ['typed-a', 'typed-b'].map((nodeId) => ({ hubs: [TypedHub], config: { nodeId, jwt: { secret: TEST_JWT_SECRET } } })),
})
const nodeA = (): TestServer => fixture.nodes[0]!
const nodeB = (): TestServer => fixture.nodes[1]!

const protocols: Array<[string, () => IHubProtocol | undefined]> = [
  ['JSON', () => undefined],
  ['MessagePack', () => new MessagePackHubProtocol()],
]

async function connect(node: TestServer, user: string, protocol?: IHubProtocol): Promise<TestClient> {
  return connectClient(node.hubUrl('/hubs/typed'), { accessToken: await tokenFor(user), ...(protocol ? { protocol } : {}) })
}

/** Who gets a note sent to `target`: the sender `me`, `peer` (a stranger) and `friend` (in room-1, user "friend"). */
describe.each(protocols)('typed sends over %s', (_, protocol) => {
  const cases: Array<[Target, (ids: { me: string; peer: string; friend: string }) => string[], { me: boolean; peer: boolean; friend: boolean }]> = [
    ['all', () => [], { me: true, peer: true, friend: true }],
    ['allExcept', (c) => [c.peer], { me: true, peer: false, friend: true }],
    ['client', (c) => [c.friend], { me: false, peer: false, friend: true }],
    ['clients', (c) => [c.me, c.peer], { me: true, peer: true, friend: false }],
    ['user', () => ['friend'], { me: false, peer: false, friend: true }],
    ['users', () => ['friend', 'peer'], { me: false, peer: true, friend: true }],
    ['group', () => ['room-1'], { me: true, peer: false, friend: true }],
    ['groups', () => ['room-1', 'room-2'], { me: true, peer: true, friend: true }],
    ['groupExcept', (c) => ['room-1', c.friend], { me: true, peer: false, friend: false }],
    ['caller', () => [], { me: true, peer: false, friend: false }],
    ['others', () => [], { me: false, peer: true, friend: true }],
    ['othersInGroup', () => ['room-1'], { me: false, peer: false, friend: true }],
  ]

  it.each(cases)('%s reaches exactly the connections it names, on both nodes', async (target, ids, expected) => {
    // Users are unique per case so that other cases' connections are never reached by user.
    await using me = await connect(nodeA(), `me-${target}`, protocol())
    await using peer = await connect(nodeB(), 'peer', protocol())
    await using friend = await connect(nodeB(), 'friend', protocol())
    await me.invoke('join', 'room-1')
    await friend.invoke('join', 'room-1')
    await peer.invoke('join', 'room-2')
    const inboxes = { me: new Inbox(me, 'note'), peer: new Inbox(peer, 'note'), friend: new Inbox(friend, 'note') }
    const note: Note = { text: `to ${target}`, n: 1 }
    await me.invoke('push', target, ids({ me: me.connectionId!, peer: peer.connectionId!, friend: friend.connectionId! }), note)
    // A note to all three afterwards: once it arrives, anything sent before it has arrived too.
    await me.invoke('push', 'clients', [me.connectionId!, peer.connectionId!, friend.connectionId!], { text: 'probe', n: 2 })
    for (const [who, inbox] of Object.entries(inboxes)) {
      const first = await inbox.next()
      const wanted = expected[who as keyof typeof expected]
      expect({ who, got: first }).toEqual({ who, got: [wanted ? note : { text: 'probe', n: 2 }] })
      if (wanted) expect(await inbox.next()).toEqual([{ text: 'probe', n: 2 }])
    }
  })
})

describe.each(protocols)('client results asked by hub code, over %s', (_, protocol) => {
  it("returns the client's answer, from a connection on this node and on the other", async () => {
    await using asker = await connect(nodeA(), 'asker', protocol())
    for (const node of [nodeA(), nodeB()]) {
      await using answerer = await connect(node, 'answerer', protocol())
      answerer.on('ask', async (question: string) => `${question}? yes`)
      expect(await asker.invoke('askClient', answerer.connectionId, 'ready')).toEqual({ result: 'ready? yes' } satisfies Asked)
    }
  })

  it('asks the calling connection itself, with one invocation at a time (no deadlock)', async () => {
    await using c = await connect(nodeB(), 'self', protocol())
    c.on('ask', (question: string) => `me: ${question}`)
    expect(await c.invoke('askClient', null, 'who')).toEqual({ result: 'me: who' })
  })

  it('rejects with a HubException carrying the client error, on either node', async () => {
    await using asker = await connect(nodeA(), 'asker', protocol())
    for (const node of [nodeA(), nodeB()]) {
      await using answerer = await connect(node, 'answerer', protocol())
      answerer.on('ask', () => {
        throw new Error('no way')
      })
      expect(await asker.invoke('askClient', answerer.connectionId, 'q')).toEqual({ error: 'HubException', code: 'IM_HUB_EXCEPTION', message: 'Error: no way' })
      // Left uncaught, the hub method fails with the client's text, as in ASP.NET Core.
      await expect(asker.invoke('askOrFail', answerer.connectionId, 'q')).rejects.toThrow(
        "An unexpected error occurred invoking 'askOrFail' on the server. HubException: Error: no way",
      )
    }
  })

  it('rejects with IM_CLIENT_RESULT_TIMEOUT when the client does not answer in time, on either node', async () => {
    await using asker = await connect(nodeA(), 'asker', protocol())
    for (const node of [nodeA(), nodeB()]) {
      await using answerer = await connect(node, 'answerer', protocol())
      answerer.on('ask', () => new Promise(() => {}))
      const id = answerer.connectionId!
      expect(await asker.invoke('askClient', id, 'q', 150)).toEqual({
        error: 'ImError',
        code: 'IM_CLIENT_RESULT_TIMEOUT',
        message: `Connection '${id}' did not answer 'ask' within 150 ms.`,
      })
    }
  })

  it('rejects with IM_CLIENT_NOT_CONNECTED for a connection that leaves while asked, or is gone', async () => {
    await using asker = await connect(nodeA(), 'asker', protocol())
    for (const node of [nodeA(), nodeB()]) {
      const answerer = await connect(node, 'answerer', protocol())
      const id = answerer.connectionId!
      let asked!: () => void
      const wasAsked = new Promise<void>((resolve) => (asked = resolve))
      answerer.on('ask', () => {
        asked()
        return new Promise(() => {})
      })
      const pending = asker.invoke('askClient', id, 'q')
      await wasAsked
      await answerer.stop()
      expect(await pending).toEqual({ error: 'ImError', code: 'IM_CLIENT_NOT_CONNECTED', message: `Connection '${id}' disconnected.` })
      expect(await asker.invoke('askClient', id, 'q')).toEqual({ error: 'ImError', code: 'IM_CLIENT_NOT_CONNECTED', message: `Connection '${id}' is not connected.` })
    }
  })

  it('refuses a timeout out of bounds before asking anyone', async () => {
    await using asker = await connect(nodeA(), 'asker', protocol())
    expect(await asker.invoke('askClient', asker.connectionId, 'q', 300_001)).toEqual({
      error: 'ImError',
      code: 'IM_INVALID_PAYLOAD',
      message: 'invoke: timeoutMs must be an integer from 1 to 300000, not 300001',
    })
  })
})

describe('a connection negotiated on one node and opened on the other (no sticky sessions)', () => {
  it('is asked through the node that holds it, by hub code and by services', async () => {
    const token = await tokenFor('roamer')
    const negotiated = (await (
      await fetch(`${nodeA().hubUrl('/hubs/typed')}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    ).json()) as { connectionId: string; connectionToken: string }
    // The WebSocket goes to node B, which takes the connection over from node A.
    await using roamer = await connectClient(`${nodeB().hubUrl('/hubs/typed')}?id=${negotiated.connectionToken}`, { accessToken: token, skipNegotiation: true })
    roamer.on('ask', (question: string) => `roaming: ${question}`)
    const id = negotiated.connectionId
    for (const node of [nodeA(), nodeB()]) {
      await using asker = await connect(node, 'asker')
      expect(await asker.invoke('askClient', id, 'where')).toEqual({ result: 'roaming: where' })
    }
    await using service = await TestService.connect(fixture.nats.url)
    const reply = await service.nc.request('im.typed.invoke.client', JSON.stringify({ connectionId: id, method: 'ask', args: ['svc'] }), { timeout: 5000 })
    expect(reply.json()).toEqual({ result: 'roaming: svc' })
  })
})

describe('hubs.clientResultTimeoutMs', () => {
  it('is how long an ask without its own timeout waits (here on one node with the embedded bus)', async () => {
    await using node = await startTestServer({ hubs: [TypedHub], config: { jwt: { secret: TEST_JWT_SECRET }, hubs: { clientResultTimeoutMs: 150 } } })
    await using asker = await connect(node, 'asker')
    await using silent = await connect(node, 'silent')
    silent.on('ask', () => new Promise(() => {}))
    expect(await asker.invoke('askClient', silent.connectionId, 'q')).toEqual({
      error: 'ImError',
      code: 'IM_CLIENT_RESULT_TIMEOUT',
      message: `Connection '${silent.connectionId}' did not answer 'ask' within 150 ms.`,
    })
  })
})

describe('invoke from a @Subscribe handler', () => {
  it('asks the connection wherever it is, once, when the handler has a queue', async () => {
    await using service = await TestService.connect(fixture.nats.url)
    for (const node of [nodeA(), nodeB()]) {
      await using answerer = await connect(node, 'answerer')
      let asked = 0
      answerer.on('ask', (question: string) => `${++asked}: ${question}`)
      const replies = await service.listen(`test.answers.${node === nodeA() ? 'a' : 'b'}`)
      await service.publish('im.typed.send.ask', { connectionId: answerer.connectionId, question: 'from a service', replyTo: `test.answers.${node === nodeA() ? 'a' : 'b'}` })
      expect((await replies.next()).json).toEqual({ result: '1: from a service' })
      expect(asked).toBe(1)
    }
  })
})

describe('invoke in onConnected', () => {
  it('gets the answer of a client whose handler was registered before start()', async () => {
    await using node = await startTestServer({ natsUrl: fixture.nats.url, hubs: [GreeterHub], config: { jwt: { secret: TEST_JWT_SECRET } } })
    await using service = await TestService.connect(fixture.nats.url)
    const greeted = await service.listen('test.greeted.>')
    const c = buildClient(node.hubUrl('/hubs/greeter'), { accessToken: await tokenFor('newcomer') })
    c.on('ask', (question: string) => `newcomer, asked "${question}"`)
    await c.start()
    try {
      expect(await c.invoke('ping')).toBe('pong')
      expect((await greeted.next()).json).toEqual({ result: 'newcomer, asked "who are you?"' })
    } finally {
      await c.stop()
    }
  })
})
