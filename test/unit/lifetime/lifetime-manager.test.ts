import { describe, expect, it } from 'vitest'
import { LifetimeManager } from '../../../src/lifetime/lifetime-manager.js'
import { MessageType, TransferFormat } from '../../../src/protocol/messages.js'
import { countingProtocol, FakeConnection } from './fakes.js'

const json = countingProtocol('json')
const frameOf = (method: string, ...args: unknown[]): string =>
  `json:${JSON.stringify({ type: MessageType.Invocation, target: method, arguments: args })}`

/** A manager holding a (alice), b (alice), c (bob) and d (anonymous), all on the JSON protocol. */
function setup(options: { maxGroupsPerConnection?: number } = {}) {
  const manager = new LifetimeManager(options)
  const a = new FakeConnection('a', 'alice', json)
  const b = new FakeConnection('b', 'alice', json)
  const c = new FakeConnection('c', 'bob', json)
  const d = new FakeConnection('d', undefined, json)
  for (const connection of [a, b, c, d]) manager.add(connection)
  const received = () => [a, b, c, d].filter((connection) => connection.frames.length > 0).map((x) => x.connectionId)
  return { manager, a, b, c, d, received }
}

describe('LifetimeManager delivery', () => {
  it('delivers to every connection for all, as one Invocation frame each', () => {
    const { manager, a, b, c, d } = setup()
    expect(manager.deliver({ kind: 'all' }, 'refresh', ['orders', 2])).toBe(4)
    for (const connection of [a, b, c, d]) expect(connection.frames).toEqual([frameOf('refresh', 'orders', 2)])
  })

  it('skips the except list for all', () => {
    const { manager, received } = setup()
    expect(manager.deliver({ kind: 'all', except: ['a', 'c', 'unknown'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['b', 'd'])
  })

  it('delivers once to a connection named twice, and ignores unknown ids', () => {
    const { manager, a, c, received } = setup()
    expect(manager.deliver({ kind: 'connections', ids: ['a', 'c', 'a', 'nobody'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['a', 'c'])
    expect(a.frames).toHaveLength(1)
    expect(c.frames).toHaveLength(1)
  })

  it('delivers to every connection of each user, once per connection when a user is named twice', () => {
    const { manager, a, received } = setup()
    expect(manager.deliver({ kind: 'users', ids: ['alice', 'alice', 'nobody'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['a', 'b'])
    expect(a.frames).toHaveLength(1)
  })

  it('does not reach an anonymous connection by user', () => {
    const { manager } = setup()
    expect(manager.deliver({ kind: 'users', ids: ['undefined', ''] }, 'm', [])).toBe(0)
  })

  it('delivers to the members of a group', async () => {
    const { manager, received } = setup()
    await manager.changeGroup({ op: 'add', group: 'room', connectionId: 'a' })
    await manager.changeGroup({ op: 'add', group: 'room', connectionId: 'd' })
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['a', 'd'])
  })

  it('delivers once to a connection that is in two of the named groups', () => {
    const { manager, a, received } = setup()
    manager.applyGroupChange({ op: 'add', group: 'one', connectionId: 'a' })
    manager.applyGroupChange({ op: 'add', group: 'two', connectionId: 'a' })
    manager.applyGroupChange({ op: 'add', group: 'two', connectionId: 'c' })
    expect(manager.deliver({ kind: 'groups', names: ['one', 'two', 'missing'] }, 'm', [])).toBe(2)
    expect(a.frames).toHaveLength(1)
    expect(received()).toEqual(['a', 'c'])
  })

  it('skips the except list for groups, in one group and across several', () => {
    const { manager, received } = setup()
    for (const id of ['a', 'b', 'c']) manager.applyGroupChange({ op: 'add', group: 'one', connectionId: id })
    manager.applyGroupChange({ op: 'add', group: 'two', connectionId: 'b' })
    expect(manager.deliver({ kind: 'groups', names: ['one'], except: ['a'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['b', 'c'])
    const second = setup()
    for (const id of ['a', 'b']) second.manager.applyGroupChange({ op: 'add', group: 'one', connectionId: id })
    second.manager.applyGroupChange({ op: 'add', group: 'two', connectionId: 'b' })
    expect(second.manager.deliver({ kind: 'groups', names: ['one', 'two'], except: ['b'] }, 'm', [])).toBe(1)
    expect(second.received()).toEqual(['a'])
  })

  it('delivers through send as through deliver', async () => {
    const { manager, c } = setup()
    await manager.send({ kind: 'connections', ids: ['c'] }, 'hello', ['world'])
    expect(c.frames).toEqual([frameOf('hello', 'world')])
  })
})

describe('LifetimeManager groups', () => {
  it('adds and removes a connection by id, reporting how many changed', () => {
    const { manager } = setup()
    expect(manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'a' })).toBe(1)
    expect(manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'a' })).toBe(0)
    expect(manager.groupsOfConnection('a')).toEqual(['room'])
    expect(manager.applyGroupChange({ op: 'remove', group: 'room', connectionId: 'a' })).toBe(1)
    expect(manager.applyGroupChange({ op: 'remove', group: 'room', connectionId: 'a' })).toBe(0)
    expect(manager.groupsOfConnection('a')).toEqual([])
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(0)
  })

  it('ignores a group change for a connection it does not hold', () => {
    const { manager } = setup()
    expect(manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'elsewhere' })).toBe(0)
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(0)
  })

  it('adds and removes every current connection of a user', async () => {
    const { manager, received } = setup()
    expect(manager.applyGroupChange({ op: 'add', group: 'room', userId: 'alice' })).toBe(2)
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(2)
    expect(received()).toEqual(['a', 'b'])
    await manager.changeGroup({ op: 'remove', group: 'room', userId: 'alice' })
    expect(manager.groupsOfConnection('a')).toEqual([])
    expect(manager.groupsOfConnection('b')).toEqual([])
    expect(manager.applyGroupChange({ op: 'add', group: 'room', userId: 'nobody' })).toBe(0)
  })

  it('returns a copy of a connection groups', () => {
    const { manager } = setup()
    manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'a' })
    manager.groupsOfConnection('a').push('injected')
    expect(manager.groupsOfConnection('a')).toEqual(['room'])
  })

  it('refuses to add a connection to more groups than the maximum, and allows it again after a leave', () => {
    const { manager } = setup({ maxGroupsPerConnection: 2 })
    expect(manager.applyGroupChange({ op: 'add', group: 'g1', connectionId: 'a' })).toBe(1)
    expect(manager.applyGroupChange({ op: 'add', group: 'g2', connectionId: 'a' })).toBe(1)
    expect(() => manager.applyGroupChange({ op: 'add', group: 'g3', connectionId: 'a' })).toThrow(
      expect.objectContaining({ code: 'IM_LIMIT_EXCEEDED', message: 'connection a is already in 2 groups; not added to "g3"' }),
    )
    expect(manager.groupsOfConnection('a')).toEqual(['g1', 'g2'])
    expect(manager.deliver({ kind: 'groups', names: ['g3'] }, 'm', [])).toBe(0)
    // The cap is per connection: another connection may still join g3.
    expect(manager.applyGroupChange({ op: 'add', group: 'g3', connectionId: 'b' })).toBe(1)
    manager.applyGroupChange({ op: 'remove', group: 'g1', connectionId: 'a' })
    expect(manager.applyGroupChange({ op: 'add', group: 'g3', connectionId: 'a' })).toBe(1)
  })
})

describe('LifetimeManager add and remove', () => {
  it('finds connections by id and counts them', () => {
    const { manager, a } = setup()
    expect(manager.size).toBe(4)
    expect(manager.get('a')).toBe(a)
    expect(manager.get('nobody')).toBeUndefined()
  })

  it('removes a connection from every index: id, user and groups', () => {
    const { manager, a } = setup()
    manager.applyGroupChange({ op: 'add', group: 'one', connectionId: 'a' })
    manager.applyGroupChange({ op: 'add', group: 'two', connectionId: 'a' })
    manager.remove(a)
    expect(manager.size).toBe(3)
    expect(manager.get('a')).toBeUndefined()
    expect(manager.groupsOfConnection('a')).toEqual([])
    expect(manager.deliver({ kind: 'connections', ids: ['a'] }, 'm', [])).toBe(0)
    expect(manager.deliver({ kind: 'users', ids: ['alice'] }, 'm', [])).toBe(1)
    expect(manager.deliver({ kind: 'groups', names: ['one', 'two'] }, 'm', [])).toBe(0)
    expect(manager.deliver({ kind: 'all' }, 'm', [])).toBe(3)
    expect(a.frames).toEqual([])
  })

  it('gives a connection that reuses a removed id none of the old groups', () => {
    const { manager, a } = setup()
    manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'a' })
    manager.remove(a)
    const again = new FakeConnection('a', 'carol', json)
    manager.add(again)
    expect(manager.groupsOfConnection('a')).toEqual([])
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(0)
  })

  it('ignores the removal of a connection object it does not hold', () => {
    const { manager, a } = setup()
    manager.applyGroupChange({ op: 'add', group: 'room', connectionId: 'a' })
    manager.remove(new FakeConnection('a', 'alice', json))
    expect(manager.get('a')).toBe(a)
    expect(manager.deliver({ kind: 'groups', names: ['room'] }, 'm', [])).toBe(1)
    expect(manager.deliver({ kind: 'users', ids: ['alice'] }, 'm', [])).toBe(2)
  })
})

describe('LifetimeManager serialization', () => {
  it('serializes a broadcast to many connections once, and sends the same frame to each', () => {
    const protocol = countingProtocol('binary', TransferFormat.Binary)
    const manager = new LifetimeManager()
    const connections = Array.from({ length: 50 }, (_, i) => new FakeConnection(`c${i}`, undefined, protocol))
    for (const connection of connections) manager.add(connection)
    expect(manager.deliver({ kind: 'all' }, 'tick', [1])).toBe(50)
    expect(protocol.written).toEqual([{ type: MessageType.Invocation, target: 'tick', arguments: [1] }])
    const first = connections[0]!.frames[0]
    for (const connection of connections) expect(connection.frames[0]).toBe(first)
  })

  it('serializes once for a group broadcast', () => {
    const protocol = countingProtocol()
    const manager = new LifetimeManager()
    for (let i = 0; i < 10; i++) {
      manager.add(new FakeConnection(`c${i}`, undefined, protocol))
      manager.applyGroupChange({ op: 'add', group: i % 2 ? 'odd' : 'even', connectionId: `c${i}` })
    }
    expect(manager.deliver({ kind: 'groups', names: ['odd', 'even'] }, 'm', [])).toBe(10)
    expect(protocol.written).toHaveLength(1)
  })

  it('serializes once per protocol when connections use two protocols', () => {
    const text = countingProtocol('json')
    const binary = countingProtocol('messagepack', TransferFormat.Binary)
    const manager = new LifetimeManager()
    const textConnections = ['t1', 't2', 't3'].map((id) => new FakeConnection(id, undefined, text))
    const binaryConnections = ['b1', 'b2', 'b3'].map((id) => new FakeConnection(id, undefined, binary))
    // Interleaved, so the cache must switch back and forth between the two frames.
    for (let i = 0; i < 3; i++) {
      manager.add(textConnections[i]!)
      manager.add(binaryConnections[i]!)
    }
    expect(manager.deliver({ kind: 'all' }, 'm', ['x'])).toBe(6)
    expect(text.written).toHaveLength(1)
    expect(binary.written).toHaveLength(1)
    for (const connection of textConnections) expect(connection.frames).toEqual([`json:${JSON.stringify(text.written[0])}`])
    // Text is encoded to bytes once, and every connection gets that same object.
    const textFrame = textConnections[0]!.rawFrames[0]
    expect(textFrame).toBeInstanceOf(Uint8Array)
    for (const connection of textConnections) expect(connection.rawFrames[0]).toBe(textFrame)
    const binaryFrame = binaryConnections[0]!.frames[0]
    expect(binaryFrame).toBeInstanceOf(Uint8Array)
    for (const connection of binaryConnections) expect(connection.frames[0]).toBe(binaryFrame)
  })

  it('serializes nothing when no connection is targeted', () => {
    const protocol = countingProtocol()
    const manager = new LifetimeManager()
    manager.add(new FakeConnection('a', undefined, protocol))
    expect(manager.deliver({ kind: 'groups', names: ['empty'] }, 'm', [])).toBe(0)
    expect(manager.deliver({ kind: 'all', except: ['a'] }, 'm', [])).toBe(0)
    expect(protocol.written).toEqual([])
  })

  it('serializes each delivery afresh', () => {
    const protocol = countingProtocol()
    const manager = new LifetimeManager()
    manager.add(new FakeConnection('a', undefined, protocol))
    manager.deliver({ kind: 'all' }, 'first', [])
    manager.deliver({ kind: 'all' }, 'second', [])
    expect(protocol.written.map((m) => (m.type === MessageType.Invocation ? m.target : undefined))).toEqual(['first', 'second'])
  })
})
