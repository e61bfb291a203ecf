import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Bus, BusHandler, BusStatus } from '../../../src/bus/bus.js'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { ClusterDelivery } from '../../../src/lifetime/cluster-delivery.js'
import { LifetimeManager } from '../../../src/lifetime/lifetime-manager.js'
import type { Logger } from '../../../src/logger.js'
import { countingProtocol, FakeConnection } from './fakes.js'

const SUBJECT = 'im.test.deliver'
const WAIT = { timeout: 2000, interval: 1 } as const
const json = countingProtocol('json')

const spyLogger = () => ({
  debug: vi.fn<Logger['debug']>(),
  info: vi.fn<Logger['info']>(),
  warn: vi.fn<Logger['warn']>(),
  error: vi.fn<Logger['error']>(),
})

/** One IMService node: its lifetime manager and its cluster delivery on the shared bus. */
function node(bus: Bus, ...connections: FakeConnection[]) {
  const local = new LifetimeManager()
  for (const connection of connections) local.add(connection)
  const logger = spyLogger()
  const cluster = new ClusterDelivery({ bus, local, subject: SUBJECT, logger })
  cluster.start()
  return { local, cluster, logger }
}

/** Resolves once every message published before it has been handled (the bus keeps order). */
async function busSettled(bus: Bus): Promise<void> {
  const subject = 'test.settled'
  let done!: () => void
  const settled = new Promise<void>((resolve) => (done = resolve))
  const subscription = bus.subscribe(subject, () => done())
  await bus.publish(subject, new Uint8Array())
  await settled
  subscription.unsubscribe()
}

describe('ClusterDelivery on a shared bus', () => {
  const buses: EmbeddedBus[] = []
  const startBus = (logger?: Logger): EmbeddedBus => {
    const bus = new EmbeddedBus({ logger })
    buses.push(bus)
    return bus
  }
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((bus) => bus.close()))
  })

  it('delivers to connections this node holds at once, without the bus', async () => {
    const bus = startBus()
    const publish = vi.spyOn(bus, 'publish')
    const a = new FakeConnection('a', undefined, json)
    const b = new FakeConnection('b', undefined, json)
    const { cluster } = node(bus, a, b)
    await cluster.send({ kind: 'connections', ids: ['a', 'b'] }, 'm', [1])
    expect(a.frames).toHaveLength(1)
    expect(b.frames).toHaveLength(1)
    expect(publish).not.toHaveBeenCalled()
  })

  it('sends a broadcast through the bus subject, and every node delivers it once to its own connections', async () => {
    const bus = startBus()
    const publish = vi.spyOn(bus, 'publish')
    const a = new FakeConnection('a', undefined, json)
    const b = new FakeConnection('b', undefined, json)
    const one = node(bus, a)
    node(bus, b)
    await one.cluster.send({ kind: 'all' }, 'refresh', ['orders'])
    expect(publish).toHaveBeenCalledTimes(1)
    expect(publish.mock.calls[0]![0]).toBe(SUBJECT)
    // Not delivered locally on the way out: the sender's node hears it from the bus like any other.
    expect(a.frames).toEqual([])
    await busSettled(bus)
    expect(a.frames).toEqual([b.frames[0]])
    expect(b.frames).toHaveLength(1)
  })

  it('sends through the bus when one of the named connections is on another node', async () => {
    const bus = startBus()
    const a = new FakeConnection('a', undefined, json)
    const b = new FakeConnection('b', undefined, json)
    const one = node(bus, a)
    node(bus, b)
    await one.cluster.send({ kind: 'connections', ids: ['a', 'b'] }, 'm', [])
    await vi.waitFor(() => expect(b.frames).toHaveLength(1), WAIT)
    await busSettled(bus)
    expect(a.frames).toHaveLength(1)
  })

  it('reaches a user connected to two nodes', async () => {
    const bus = startBus()
    const a = new FakeConnection('a', 'alice', json)
    const b = new FakeConnection('b', 'alice', json)
    const c = new FakeConnection('c', 'bob', json)
    const one = node(bus, a)
    node(bus, b, c)
    await one.cluster.send({ kind: 'users', ids: ['alice'] }, 'm', [])
    await busSettled(bus)
    expect([a.frames.length, b.frames.length, c.frames.length]).toEqual([1, 1, 0])
  })

  it('adds a connection held by another node to a group through the bus', async () => {
    const bus = startBus()
    const a = new FakeConnection('a', undefined, json)
    const b = new FakeConnection('b', undefined, json)
    const one = node(bus, a)
    const two = node(bus, b)
    await one.cluster.changeGroup({ op: 'add', group: 'room', connectionId: 'b' })
    await vi.waitFor(() => expect(two.local.groupsOfConnection('b')).toEqual(['room']), WAIT)
    await one.cluster.send({ kind: 'groups', names: ['room'] }, 'm', [])
    await busSettled(bus)
    expect(a.frames).toEqual([])
    expect(b.frames).toHaveLength(1)
  })

  it('applies a group change for a local connection at once, without the bus', async () => {
    const bus = startBus()
    const publish = vi.spyOn(bus, 'publish')
    const { cluster, local } = node(bus, new FakeConnection('a', undefined, json))
    await cluster.changeGroup({ op: 'add', group: 'room', connectionId: 'a' })
    expect(local.groupsOfConnection('a')).toEqual(['room'])
    expect(publish).not.toHaveBeenCalled()
  })

  it('applies a group change by user on every node', async () => {
    const bus = startBus()
    const one = node(bus, new FakeConnection('a', 'alice', json))
    const two = node(bus, new FakeConnection('b', 'alice', json))
    await one.cluster.changeGroup({ op: 'add', group: 'room', userId: 'alice' })
    await busSettled(bus)
    expect(one.local.groupsOfConnection('a')).toEqual(['room'])
    expect(two.local.groupsOfConnection('b')).toEqual(['room'])
  })

  it.each([
    ['not JSON', 'not json {'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['a send with nothing but its kind', '{"kind":"send"}'],
    ['a send without target', '{"kind":"send","method":"m","args":[]}'],
    ['a send to an unknown target kind', '{"kind":"send","method":"m","args":[],"target":{"kind":"planet"}}'],
    ['a group change naming both a connection and a user', '{"kind":"group","change":{"op":"add","group":"g","connectionId":"c","userId":"u"}}'],
  ])('drops a deliver message that is %s without throwing, and delivers the next one', async (_what, payload) => {
    const busLogger = spyLogger()
    const bus = startBus(busLogger)
    const a = new FakeConnection('a', undefined, json)
    const { cluster, logger } = node(bus, a)
    await bus.publish(SUBJECT, new TextEncoder().encode(payload))
    await cluster.send({ kind: 'all' }, 'next', [])
    await vi.waitFor(() => expect(a.frames).toHaveLength(1), WAIT)
    expect(logger.warn).toHaveBeenCalledWith('dropped a node-to-node message that is not a delivery instruction', { subject: SUBJECT })
    expect(busLogger.error).not.toHaveBeenCalled()
  })
})

describe('ClusterDelivery while the bus is down', () => {
  /** A bus that has lost its server: every publish would be refused. */
  function reconnectingBus() {
    const status: BusStatus = { kind: 'nats', state: 'reconnecting' }
    const handlers: BusHandler[] = []
    const bus: Bus = {
      publish: vi.fn(() => Promise.reject(new Error('publish must not be called while the bus is down'))),
      subscribe: vi.fn((subject: string, handler: BusHandler) => {
        handlers.push(handler)
        return { subject, unsubscribe() {} }
      }),
      request: vi.fn(() => Promise.reject(new Error('request must not be called while the bus is down'))),
      ready: async () => {},
      status: () => status,
      onStatusChange: () => () => {},
      close: async () => {},
    }
    return { bus, handlers }
  }

  it('delivers a broadcast to this node connections and warns once', async () => {
    const { bus } = reconnectingBus()
    const a = new FakeConnection('a', undefined, json)
    const { cluster, logger } = node(bus, a)
    await cluster.send({ kind: 'all' }, 'm', [])
    expect(a.frames).toHaveLength(1)
    expect(bus.publish).not.toHaveBeenCalled()
    expect(logger.warn).toHaveBeenCalledTimes(1)
    expect(logger.warn).toHaveBeenCalledWith('bus down: delivering to this node only', { subject: SUBJECT })
  })

  it('delivers to the local one of several named connections', async () => {
    const { bus } = reconnectingBus()
    const a = new FakeConnection('a', undefined, json)
    const { cluster } = node(bus, a)
    await cluster.send({ kind: 'connections', ids: ['a', 'elsewhere'] }, 'm', [])
    expect(a.frames).toHaveLength(1)
    expect(bus.publish).not.toHaveBeenCalled()
  })

  it('applies a group change by user locally', async () => {
    const { bus } = reconnectingBus()
    const { cluster, local } = node(bus, new FakeConnection('a', 'alice', json))
    await cluster.changeGroup({ op: 'add', group: 'room', userId: 'alice' })
    expect(local.groupsOfConnection('a')).toEqual(['room'])
    expect(bus.publish).not.toHaveBeenCalled()
  })

  it('subscribes to the deliver subject on start', () => {
    const { bus, handlers } = reconnectingBus()
    node(bus)
    expect(bus.subscribe).toHaveBeenCalledWith(SUBJECT, expect.any(Function))
    expect(handlers).toHaveLength(1)
  })
})
