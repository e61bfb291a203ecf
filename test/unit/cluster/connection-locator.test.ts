import { afterEach, describe, expect, it } from 'vitest'
import type { Principal } from '../../../src/auth/principal.js'
import { ClusterRouter } from '../../../src/cluster/cluster-router.js'
import { ConnectionLocator } from '../../../src/cluster/connection-locator.js'
import { ConnectionRegistry } from '../../../src/cluster/connection-registry.js'
import type { ConnectionEntry } from '../../../src/cluster/connection-entry.js'
import { refusalOf } from '../../../src/cluster/located.js'
import { newConnectionKey, newIncarnation, nodeTag } from '../../../src/cluster/node-tag.js'
import type { MoveOffer, MoveState } from '../../../src/connection/connection-move.js'
import type { HubConnection } from '../../../src/connection/hub-connection.js'
import type { InvocationHandler } from '../../../src/connection/invocation-handler.js'
import { silentLogger } from '../../../src/logger.js'
import { Metrics } from '../../../src/metrics.js'
import type { ServerTransport } from '../../../src/transports/transport.js'
import { FakeBus } from '../../support/fake-bus.js'

const PREFIX = 'im.default.node'
const alice: Principal = { userId: 'alice', claims: { sub: 'alice' } }
const eve: Principal = { userId: 'eve', claims: { sub: 'eve' } }
const someTransport = { name: 'WebSockets' } as ServerTransport
const moveState: MoveState = { buffer: { sent: 3, received: 1, frames: [{ id: 3, frame: 'm3', shared: true }] }, mark: 2, groups: ['room'], streams: [] }

/** What the locator asks of an open connection that can move: it offers, then hands over its state. */
function movableConnection(connectionId: string): HubConnection & { readonly offers: number; readonly moved: boolean } {
  let offers = 0
  let moved = false
  return {
    connectionId,
    transport: someTransport,
    get canResume() {
      return !moved
    },
    get offers() {
      return offers
    },
    get moved() {
      return moved
    },
    offerMove: (groups: readonly string[]): MoveOffer => {
      offers++
      return { connectionId, protocol: 'json', groups }
    },
    moveAway: (): MoveState => {
      moved = true
      return moveState
    },
  } as unknown as HubConnection & { offers: number; moved: boolean }
}

const handler = { settleForMove: async () => [] } as unknown as InvocationHandler

describe('ConnectionLocator', () => {
  const bus = new FakeBus()
  const registries: ConnectionRegistry[] = []
  afterEach(async () => {
    for (const registry of registries.splice(0)) registry.stop()
    await bus.close()
    bus.silent.clear()
    bus.sent.length = 0
    bus.down = false
  })

  /** A node of the cluster: its registry, its router on the shared bus, its locator answering. */
  function node(name: string) {
    const tag = nodeTag(name, newIncarnation())
    const registry = new ConnectionRegistry(5000, tag)
    registries.push(registry)
    const router = new ClusterRouter({ bus, subjectPrefix: PREFIX, tag, relayTimeoutMs: 1000, logger: silentLogger, metrics: new Metrics() })
    const locator = new ConnectionLocator({ registry, router, nodeTag: tag, handler, groupsOf: () => ['room'] })
    locator.start(async () => ({ status: 200, headers: {}, body: '' }))
    /** A connection negotiated here whose transport opened here. */
    const open = (principal = alice): ConnectionEntry & { connection: ReturnType<typeof movableConnection> } => {
      const entry = registry.create(principal, 1, true)
      const connection = movableConnection(entry.connectionId)
      entry.opened(connection, undefined)
      return entry as ConnectionEntry & { connection: ReturnType<typeof movableConnection> }
    }
    return { tag, registry, router, locator, open }
  }

  describe('on the node that has the connection', () => {
    it('finds it for its user, forbids it to another, and knows nothing of an unknown token', async () => {
      const a = node('a')
      const entry = a.registry.create(alice, 1)
      expect(await a.locator.locate(entry.token, alice, true)).toEqual({ kind: 'found', entry })
      expect(await a.locator.locate(entry.token, eve, true)).toEqual({ kind: 'forbidden' })
      expect(await a.locator.locate(newConnectionKey(a.tag), alice, true)).toEqual({ kind: 'missing' })
      expect(bus.sent).toEqual([])
    })
  })

  describe('for a token another node issued', () => {
    it('takes over a connection negotiated there and not opened yet; that node then names this one', async () => {
      const a = node('a')
      const b = node('b')
      const entry = a.registry.create(alice, 1, true)
      const found = await b.locator.locate(entry.token, alice, true)
      expect(found).toMatchObject({ kind: 'found', entry: { token: entry.token, connectionId: entry.connectionId, statefulReconnect: true } })
      expect(a.registry.isHandedOver(entry.connectionId)).toBe(true)
      // The next request for it that reaches the issuing node is relayed to the new holder.
      expect(await a.locator.locate(entry.token, alice, false)).toEqual({ kind: 'elsewhere', holder: b.tag })
    })

    it('does not take over an unopened connection for a request that opens nothing', async () => {
      const a = node('a')
      const b = node('b')
      const entry = a.registry.create(alice, 1)
      expect(await b.locator.locate(entry.token, alice, false)).toEqual({ kind: 'missing' })
      expect(a.registry.get(entry.token)).toBe(entry)
    })

    it('names the node holding an open connection, so that the request is relayed there', async () => {
      const a = node('a')
      const b = node('b')
      const entry = a.open()
      expect(await b.locator.locate(entry.token, alice, true)).toEqual({ kind: 'elsewhere', holder: a.tag })
    })

    it("forbids another user's connection, and knows nothing of a token its node never issued", async () => {
      const a = node('a')
      const b = node('b')
      expect(await b.locator.locate(a.open().token, eve, true)).toEqual({ kind: 'forbidden' })
      expect(await b.locator.locate(newConnectionKey(a.tag), alice, true)).toEqual({ kind: 'missing' })
    })

    it('tells a node that has stopped from one that does not answer in time', async () => {
      const a = node('a')
      const b = node('b')
      const token = a.open().token
      bus.silent.add(`${PREFIX}.${a.tag}`)
      expect(await b.locator.locate(token, alice, true)).toEqual({ kind: 'node-slow', node: a.tag })
      expect(await b.locator.locate(newConnectionKey(nodeTag('stopped')), alice, true)).toEqual({ kind: 'node-gone', node: nodeTag('stopped') })
    })

    it('says the bus is down when it cannot ask', async () => {
      const a = node('a')
      const b = node('b')
      const token = a.open().token
      bus.down = true
      expect(await b.locator.locate(token, alice, true)).toEqual({ kind: 'bus-down' })
    })
  })

  describe('for a stateful reconnect (resume)', () => {
    it('is offered an open connection, and its state can then be taken', async () => {
      const a = node('a')
      const b = node('b')
      const entry = a.open()
      const found = await b.locator.locate(entry.token, alice, true, true)
      expect(found).toEqual({ kind: 'movable', offer: { connectionId: entry.connectionId, protocol: 'json', groups: ['room'] }, holder: a.tag })
      expect(await b.router.take(a.tag, entry.token)).toEqual({ kind: 'state', state: moveState })
      expect(entry.connection.moved).toBe(true)
      expect(a.registry.holderOf(entry.token)).toBe(b.tag)
      // Taken once: a second take finds nothing to hand over.
      expect(await b.router.take(a.tag, entry.token)).toEqual({ kind: 'unknown' })
    })

    it('asks every node when the issuing node has stopped, and finds the node the connection moved to', async () => {
      const c = node('c')
      const b = node('b')
      // The connection was issued by a node now gone, and moved to c.
      const token = newConnectionKey(nodeTag('gone'))
      const entry = c.registry.adopt(token, 'conn-1', alice, true)
      entry.opened(movableConnection('conn-1'), undefined)
      expect(await b.locator.locate(token, alice, true, true)).toEqual({ kind: 'movable', offer: { connectionId: 'conn-1', protocol: 'json', groups: ['room'] }, holder: c.tag })
    })

    it('keeps "node gone" when no node offers the connection', async () => {
      const b = node('b')
      node('c')
      const gone = nodeTag('gone')
      expect(await b.locator.locate(newConnectionKey(gone), alice, true, true)).toEqual({ kind: 'node-gone', node: gone })
    })

    it('asks the node the issuing node handed the connection to', async () => {
      const a = node('a')
      const b = node('b')
      const c = node('c')
      const entry = a.registry.create(alice, 1, true)
      // c opened it first, then the client's reconnect reaches b.
      expect(await c.locator.locate(entry.token, alice, true)).toMatchObject({ kind: 'found' })
      const held = c.registry.get(entry.token)!
      held.opened(movableConnection(entry.connectionId), undefined)
      expect(await b.locator.locate(entry.token, alice, true, true)).toMatchObject({ kind: 'movable', holder: c.tag })
      // The issuing node asks the holder itself when the reconnect reaches it.
      expect(await a.locator.locate(entry.token, alice, true, true)).toMatchObject({ kind: 'movable', holder: c.tag })
    })

    // A node restarted under the same id before its tags carried an incarnation (or two lives whose
    // tags collide): the token carries this node's tag, but this node never issued it.
    it('asks every node about a resumed token of its own tag that it knows nothing of', async () => {
      const a = node('a')
      const c = node('c')
      const token = newConnectionKey(a.tag)
      const entry = c.registry.adopt(token, 'conn-2', alice, true)
      entry.opened(movableConnection('conn-2'), undefined)
      expect(await a.locator.locate(token, alice, true, true)).toMatchObject({ kind: 'movable', holder: c.tag })
      const asked = (): string[] => bus.sent.map(([subject]) => subject).filter((subject) => subject.startsWith(PREFIX))
      expect(asked()).toEqual([`${PREFIX}.any`])
      // Without a resume it asks nobody.
      expect(await a.locator.locate(newConnectionKey(a.tag), alice, true, false)).toEqual({ kind: 'missing' })
      expect(asked()).toHaveLength(1)
    })
  })

  it('refuses each outcome with the status that tells the client what to do', () => {
    expect(refusalOf({ kind: 'missing' })).toEqual([404, 'No Connection with that ID'])
    expect(refusalOf({ kind: 'node-gone', node: 'AAAAAA' })).toEqual([404, 'No Connection with that ID'])
    expect(refusalOf({ kind: 'bad-answer', node: 'AAAAAA', reason: 'x' })).toEqual([404, 'No Connection with that ID'])
    expect(refusalOf({ kind: 'elsewhere', holder: 'AAAAAA' })).toEqual([404, 'No Connection with that ID'])
    expect(refusalOf({ kind: 'unknown' })).toEqual([404, 'No Connection with that ID'])
    expect(refusalOf({ kind: 'forbidden' })).toEqual([403, ''])
    expect(refusalOf({ kind: 'node-slow', node: 'AAAAAA' })).toEqual([503, 'The server holding this connection did not answer in time; try again.'])
    expect(refusalOf({ kind: 'bus-down' })).toEqual([503, 'This server cannot reach the others now; try again.'])
  })
})
