import { describe, expect, it } from 'vitest'
import { silentLogger } from '../../../src/logger.js'
import { DurableGate } from '../../../src/lifetime/durable-gate.js'
import type { DurableSource, ReplayedMessage } from '../../../src/lifetime/durable-gate.js'
import { LifetimeManager } from '../../../src/lifetime/lifetime-manager.js'
import { FakeConnection, countingProtocol } from './fakes.js'

/** A store whose replays the test answers by hand, recording cursor moves. */
class FakeSource implements DurableSource {
  readonly replays: Array<{ userId: string; seenUpTo: number; resolve: (messages: ReplayedMessage[]) => void; reject: (error: Error) => void }> = []
  readonly cursor = new Map<string, number>()

  replay(userId: string, seenUpTo: number): Promise<readonly ReplayedMessage[]> {
    return new Promise((resolve, reject) => this.replays.push({ userId, seenUpTo, resolve, reject }))
  }

  delivered(userId: string, sequence: number): void {
    this.cursor.set(userId, Math.max(this.cursor.get(userId) ?? 0, sequence))
  }
}

const protocol = countingProtocol()
const users = (ids: string[]) => ({ kind: 'users', ids }) as const
/** The client method and first argument of each frame the connection got. */
const received = (connection: FakeConnection): unknown[] =>
  connection.frames.map((frame) => {
    const message = JSON.parse(String(frame).slice('json:'.length)) as { target: string; arguments: unknown[] }
    return `${message.target}:${String(message.arguments[0])}`
  })

function setUp() {
  const source = new FakeSource()
  const gate = new DurableGate({ source, logger: silentLogger, maxHeld: 4 })
  const lifetime = new LifetimeManager<FakeConnection>({ durable: gate })
  return { source, gate, lifetime }
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('DurableGate', () => {
  it('holds live durable messages while the replay runs, then sends the replayed ones first and each once', async () => {
    const { source, lifetime } = setUp()
    lifetime.deliver(users(['ann']), 'm', ['before'], { durableSequence: 4 })
    const ann = new FakeConnection('c1', 'ann', protocol)
    lifetime.add(ann)
    expect(source.replays[0]).toMatchObject({ userId: 'ann', seenUpTo: 4 })
    lifetime.deliver(users(['ann']), 'm', ['live-6'], { durableSequence: 6 })
    lifetime.deliver(users(['ann']), 'm', ['live-7'], { durableSequence: 7 })
    // What is not durable waits too, so that it keeps its order with the replayed messages.
    lifetime.deliver(users(['ann']), 'plain', ['held'])
    lifetime.deliver({ kind: 'all' }, 'broadcast', ['held'])
    expect(received(ann)).toEqual([])

    source.replays[0]!.resolve([
      { sequence: 2, method: 'm', args: ['kept-2'] },
      { sequence: 6, method: 'm', args: ['kept-6'] },
    ])
    await flush()
    expect(received(ann)).toEqual(['m:kept-2', 'm:kept-6', 'm:live-7', 'plain:held', 'broadcast:held'])
    expect(source.cursor.get('ann')).toBe(7)
    lifetime.deliver(users(['ann']), 'plain', ['now'])
    expect(received(ann).at(-1)).toBe('plain:now')

    // A live message the replay already gave (the feed behind the sorter) is not sent again.
    lifetime.deliver(users(['ann']), 'm', ['live-6'], { durableSequence: 6 })
    lifetime.deliver(users(['ann']), 'm', ['live-8'], { durableSequence: 8 })
    expect(received(ann).slice(6)).toEqual(['m:live-8'])
    expect(source.cursor.get('ann')).toBe(8)
  })

  it('replays nothing to anonymous or moved-in connections, and delivers to them at once', () => {
    const { source, lifetime } = setUp()
    const moved = new FakeConnection('c2', 'bob', protocol)
    lifetime.add(moved, 'moved')
    lifetime.add(new FakeConnection('c3', undefined, protocol))
    lifetime.deliver(users(['bob']), 'm', ['live'], { durableSequence: 3 })
    expect(source.replays).toEqual([])
    expect(received(moved)).toEqual(['m:live'])
    expect(source.cursor.get('bob')).toBe(3)
  })

  it('when the store cannot be read, sends what it held and stops moving the cursor for that connection', async () => {
    const { source, lifetime } = setUp()
    const cid = new FakeConnection('c4', 'cid', protocol)
    lifetime.add(cid)
    lifetime.deliver(users(['cid']), 'm', ['held'], { durableSequence: 5 })
    source.replays[0]!.reject(new Error('JetStream unavailable'))
    await flush()
    lifetime.deliver(users(['cid']), 'm', ['after'], { durableSequence: 6 })
    expect(received(cid)).toEqual(['m:held', 'm:after'])
    // What it got may come again at the next connect; nothing kept is skipped.
    expect(source.cursor.has('cid')).toBe(false)
  })

  it('gives the replay up when it holds more than maxHeld live messages', () => {
    const { source, lifetime } = setUp()
    const dan = new FakeConnection('c5', 'dan', protocol)
    lifetime.add(dan)
    for (let sequence = 1; sequence <= 5; sequence++) lifetime.deliver(users(['dan']), 'm', [sequence], { durableSequence: sequence })
    expect(received(dan)).toEqual(['m:1', 'm:2', 'm:3', 'm:4', 'm:5'])
    source.replays[0]!.resolve([{ sequence: 1, method: 'm', args: ['late'] }])
    expect(source.cursor.has('dan')).toBe(false)
  })

  it('sends nothing to a connection that closed before its replay ended', async () => {
    const { source, lifetime } = setUp()
    const eve = new FakeConnection('c6', 'eve', protocol)
    lifetime.add(eve)
    lifetime.remove(eve)
    source.replays[0]!.resolve([{ sequence: 1, method: 'm', args: ['kept'] }])
    await flush()
    expect(eve.frames).toEqual([])
    expect(source.cursor.has('eve')).toBe(false)
  })
})
