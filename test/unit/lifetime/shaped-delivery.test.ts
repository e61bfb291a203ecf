/**
 * Spreading and collapsing as hub code and the cluster see them: through LifetimeManager,
 * `clients.*.withDelivery(...)` and ClusterDelivery. Only setTimeout and Date are faked, so the
 * embedded bus (setImmediate) runs as usual.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Bus } from '../../../src/bus/bus.js'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { ImError, ImErrorCode } from '../../../src/errors.js'
import { createHubClients } from '../../../src/hub/clients.js'
import { ClusterDelivery } from '../../../src/lifetime/cluster-delivery.js'
import { LifetimeManager } from '../../../src/lifetime/lifetime-manager.js'
import { silentLogger } from '../../../src/logger.js'
import type { Logger } from '../../../src/logger.js'
import { MessageType, TransferFormat } from '../../../src/protocol/messages.js'
import { countingProtocol, FakeConnection } from './fakes.js'

const SUBJECT = 'im.test.deliver'

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
})
afterEach(() => {
  vi.useRealTimers()
})

const textOf = (frame: string | Uint8Array): string => (typeof frame === 'string' ? frame : new TextDecoder().decode(frame))
/** The arguments of every Invocation a connection received, in order. */
const argsOf = (connection: FakeConnection): unknown[] =>
  connection.frames.map((frame) => JSON.parse(textOf(frame).replace(/^[a-z]+:/, '')).arguments)

function connections(n: number, protocol = countingProtocol('json'), prefix = 'c'): FakeConnection[] {
  return Array.from({ length: n }, (_, i) => new FakeConnection(`${prefix}${i}`, undefined, protocol))
}

function managerWith(all: FakeConnection[]): LifetimeManager<FakeConnection> {
  const manager = new LifetimeManager<FakeConnection>()
  for (const connection of all) manager.add(connection)
  return manager
}

describe('LifetimeManager with spreadMs', () => {
  it('serializes once per protocol and hands the same frame out in slices over the window', () => {
    const json = countingProtocol('json')
    const binary = countingProtocol('msgpack', TransferFormat.Binary)
    const all = [...connections(50, json, 'j'), ...connections(50, binary, 'b')]
    const manager = managerWith(all)
    expect(manager.deliver({ kind: 'all' }, 'refresh', ['orders'], { spreadMs: 1000 })).toBe(100)
    const got = () => all.filter((connection) => connection.frames.length === 1).length
    expect(got()).toBeLessThan(10)
    vi.advanceTimersByTime(500)
    expect(got()).toBeGreaterThanOrEqual(45)
    expect(got()).toBeLessThanOrEqual(55)
    vi.advanceTimersByTime(500)
    expect(got()).toBe(100)
    expect(json.written).toEqual([{ type: MessageType.Invocation, target: 'refresh', arguments: ['orders'] }])
    expect(binary.written).toHaveLength(1)
    expect(new Set(all.slice(0, 50).map((c) => c.frames[0]))).toHaveProperty('size', 1)
  })

  it('skips a connection that closed before its slice', () => {
    const all = connections(10)
    const manager = managerWith(all)
    manager.deliver({ kind: 'all' }, 'm', [], { spreadMs: 1000 })
    manager.remove(all[9]!)
    vi.runAllTimers()
    expect(all.slice(0, 9).every((connection) => connection.frames.length === 1)).toBe(true)
    expect(all[9]!.frames).toEqual([])
  })

  it('spreads a group message to the members at the time of sending', () => {
    const all = connections(4)
    const manager = managerWith(all)
    for (const connection of all.slice(0, 3)) manager.applyGroupChange({ op: 'add', group: 'room', connectionId: connection.connectionId })
    expect(manager.deliver({ kind: 'groups', names: ['room'], except: ['c0'] }, 'm', [], { spreadMs: 200 })).toBe(2)
    vi.runAllTimers()
    expect(all.map((connection) => connection.frames.length)).toEqual([0, 1, 1, 0])
  })
})

describe('LifetimeManager with collapseKey', () => {
  it('delivers the last of five messages with the same key once to each connection, at the end of the window', () => {
    const all = connections(3)
    const manager = managerWith(all)
    for (let version = 1; version <= 5; version++) {
      expect(manager.deliver({ kind: 'all' }, 'refresh', [version], { collapseKey: 'orders' })).toBe(0)
      vi.advanceTimersByTime(100)
    }
    expect(all.every((connection) => connection.frames.length === 0)).toBe(true)
    vi.advanceTimersByTime(500)
    for (const connection of all) expect(argsOf(connection)).toEqual([[5]])
  })

  it('keeps the same key for different targets apart, whatever the order of their names', () => {
    const all = connections(3)
    const manager = managerWith(all)
    manager.applyGroupChange({ op: 'add', group: 'a', connectionId: 'c0' })
    manager.applyGroupChange({ op: 'add', group: 'b', connectionId: 'c1' })
    manager.applyGroupChange({ op: 'add', group: 'b', connectionId: 'c2' })
    manager.deliver({ kind: 'groups', names: ['a'] }, 'refresh', ['a1'], { collapseKey: 'k' })
    manager.deliver({ kind: 'groups', names: ['b', 'a'] }, 'refresh', ['ab1'], { collapseKey: 'k' })
    manager.deliver({ kind: 'groups', names: ['a', 'b'] }, 'refresh', ['ab2'], { collapseKey: 'k' })
    manager.deliver({ kind: 'groups', names: ['a'] }, 'refresh', ['a2'], { collapseKey: 'k' })
    vi.advanceTimersByTime(1000)
    expect(all.map(argsOf)).toEqual([[['a2'], ['ab2']], [['ab2']], [['ab2']]])
  })

  it('reaches the members of the group at the end of the window, spread as the last message says', () => {
    const all = connections(20)
    const manager = managerWith(all)
    manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'c0' })
    manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [1], { collapseKey: 'k', collapseWindowMs: 300 })
    for (const connection of all.slice(1)) manager.applyGroupChange({ op: 'add', group: 'room', connectionId: connection.connectionId })
    manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [2], { collapseKey: 'k', spreadMs: 1000 })
    vi.advanceTimersByTime(300)
    const got = () => all.filter((connection) => connection.frames.length > 0).length
    expect(got()).toBeGreaterThan(0)
    expect(got()).toBeLessThan(5)
    vi.advanceTimersByTime(1000)
    expect(got()).toBe(20)
    for (const connection of all) expect(argsOf(connection)).toEqual([[2]])
  })

  it('dispose() drops what is still waiting', () => {
    const all = connections(2)
    const manager = managerWith(all)
    manager.deliver({ kind: 'all' }, 'm', [], { collapseKey: 'k' })
    manager.deliver({ kind: 'all' }, 'm', [], { spreadMs: 1000 })
    manager.dispose()
    vi.runAllTimers()
    expect(all.map((connection) => connection.frames.length)).toEqual([1, 0])
    expect(manager.shapingStats).toMatchObject({ pendingSpreads: 0, openCollapseSlots: 0 })
  })
})

describe('clients.*.withDelivery', () => {
  it('passes the shaping on to the delivery, merged over an earlier call', async () => {
    const all = connections(4)
    const clients = createHubClients(managerWith(all))
    await clients.all.withDelivery({ collapseKey: 'k' }).withDelivery({ spreadMs: 400 }).send('m', 1)
    await clients.all.withDelivery({ collapseKey: 'k' }).send('m', 2)
    vi.advanceTimersByTime(1000)
    expect(all.map(argsOf)).toEqual([[[2]], [[2]], [[2]], [[2]]])
  })

  it('sends at once with undefined or empty shaping', async () => {
    const all = connections(2)
    const clients = createHubClients(managerWith(all))
    await clients.all.withDelivery(undefined).send('m')
    await clients.all.withDelivery({ spreadMs: 0 }).send('m')
    expect(all.map((connection) => connection.frames.length)).toEqual([2, 2])
  })

  it('refuses values out of bounds with IM_INVALID_PAYLOAD', () => {
    const clients = createHubClients(managerWith([]))
    expect(() => clients.group('room').withDelivery({ spreadMs: 60_001 })).toThrow(
      expect.objectContaining({ code: ImErrorCode.InvalidPayload, message: '"spreadMs" must be an integer from 0 to 60000' }),
    )
    expect(() => clients.all.withDelivery({ collapseWindowMs: 10 })).toThrow(ImError)
  })
})

describe('ClusterDelivery with shaping', () => {
  const buses: EmbeddedBus[] = []
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((bus) => bus.close()))
  })

  function node(bus: Bus, all: FakeConnection[], logger: Logger = silentLogger) {
    const local = managerWith(all)
    const cluster = new ClusterDelivery({ bus, local, subject: SUBJECT, logger })
    cluster.start()
    return cluster
  }

  /** Resolves once every message published before it has been handled (the bus keeps order). */
  async function settled(bus: Bus): Promise<void> {
    let done!: () => void
    const handled = new Promise<void>((resolve) => (done = resolve))
    const subscription = bus.subscribe('test.settled', () => done())
    await bus.publish('test.settled', new Uint8Array())
    await handled
    subscription.unsubscribe()
  }

  it('carries the shaping to every node, each collapsing for its own connections', async () => {
    const bus = new EmbeddedBus({})
    buses.push(bus)
    const one = connections(2, countingProtocol('json'), 'one')
    const two = connections(2, countingProtocol('json'), 'two')
    const cluster = node(bus, one)
    node(bus, two)
    for (let version = 1; version <= 3; version++) await cluster.send({ kind: 'all' }, 'refresh', [version], { collapseKey: 'k', collapseWindowMs: 500 })
    await settled(bus)
    expect([...one, ...two].every((connection) => connection.frames.length === 0)).toBe(true)
    vi.advanceTimersByTime(500)
    for (const connection of [...one, ...two]) expect(argsOf(connection)).toEqual([[3]])
  })

  it('drops a node-to-node message whose shaping is out of bounds', async () => {
    const bus = new EmbeddedBus({})
    buses.push(bus)
    const warn = vi.fn()
    const all = connections(1)
    node(bus, all, { ...silentLogger, warn })
    const envelope = { kind: 'send', target: { kind: 'all' }, method: 'm', args: [], shaping: { spreadMs: 1e9 } }
    await bus.publish(SUBJECT, new TextEncoder().encode(JSON.stringify(envelope)))
    await settled(bus)
    vi.runAllTimers()
    expect(all[0]!.frames).toEqual([])
    expect(warn).toHaveBeenCalledWith('dropped a node-to-node message that is not a delivery instruction', { subject: SUBJECT })
  })
})
