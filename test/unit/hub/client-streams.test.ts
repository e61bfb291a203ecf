import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClientStreams, StreamBufferPool } from '../../../src/hub/client-streams.js'
import type { ClientStreamLimits } from '../../../src/hub/client-streams.js'
import type { ClientStream } from '../../../src/hub/client-stream.js'

const LIMITS: ClientStreamLimits = { maxStreamsPerInvocation: 3, maxClientStreamsPerConnection: 4, streamBufferCapacity: 5, maxStreamBufferBytes: 1000, stallMs: 1000 }

/** ClientStreams with a recorder in place of the connection. */
function make(
  limits: Partial<ClientStreamLimits> = {},
  pool = new StreamBufferPool(1_000_000),
): { streams: ClientStreams; holds: boolean[]; stalls: number[]; drops: number[] } {
  const holds: boolean[] = []
  const stalls: number[] = []
  const drops: number[] = []
  const streams = new ClientStreams(
    { ...LIMITS, ...limits },
    { hold: (held) => holds.push(held), stalled: () => stalls.push(Date.now()), dropped: () => drops.push(Date.now()) },
    pool,
  )
  return { streams, holds, stalls, drops }
}

function registered(streams: ClientStreams, ids: string[]): ClientStream[] {
  const result = streams.register(ids, 'upload')
  if (typeof result === 'string') throw new Error(result)
  return result
}

/** Takes `n` items from a stream the way a hub method does. */
async function take(stream: ClientStream, n: number): Promise<unknown[]> {
  const taken: unknown[] = []
  const iterator = stream[Symbol.asyncIterator]()
  for (let i = 0; i < n; i++) taken.push((await iterator.next()).value)
  return taken
}

afterEach(() => {
  vi.useRealTimers()
})

describe('ClientStreams registration', () => {
  it('refuses more streams per invocation than allowed, registering none', () => {
    const { streams } = make()
    expect(streams.register(['1', '2', '3', '4'], 'upload')).toBe(
      "An unexpected error occurred invoking 'upload' on the server. HubException: Client sent 4 stream(s); at most 3 are allowed per invocation.",
    )
    expect(streams.open).toBe(0)
  })

  it('refuses streams past the per-connection bound, counting those already open', () => {
    const { streams } = make()
    registered(streams, ['1', '2', '3'])
    expect(streams.register(['4', '5'], 'upload')).toBe(
      "An unexpected error occurred invoking 'upload' on the server. HubException: Too many client streams: at most 4 may be open on a connection (3 open, 2 more sent).",
    )
    expect(streams.open).toBe(3)
    expect(registered(streams, ['4'])).toHaveLength(1)
  })

  it('refuses an id already open or repeated within the invocation', () => {
    const { streams } = make()
    registered(streams, ['1'])
    expect(streams.register(['1'], 'upload')).toBe("An unexpected error occurred invoking 'upload' on the server. HubException: Stream ID '1' is already in use.")
    expect(streams.register(['2', '2'], 'upload')).toBe("An unexpected error occurred invoking 'upload' on the server. HubException: Stream ID '2' is already in use.")
    expect(streams.open).toBe(1)
  })

  it('frees the ids and the bytes of an invocation that ended', () => {
    const { streams } = make()
    const [a] = registered(streams, ['1'])
    streams.item('1', 'x', 100)
    streams.close([a!])
    expect([streams.open, streams.bufferedBytes]).toEqual([0, 0])
    // Items for an id no longer open are dropped.
    streams.item('1', 'late', 100)
    expect(streams.bufferedBytes).toBe(0)
  })
})

describe('ClientStreams items', () => {
  it('drops items for unknown ids and for streams the client completed', () => {
    const { streams } = make()
    registered(streams, ['1'])
    streams.item('nope', 'x', 100)
    streams.complete('1')
    streams.item('1', 'after the end', 100)
    expect(streams.bufferedBytes).toBe(0)
  })

  it('hands items to the running method in order and releases their bytes as it takes them', async () => {
    const { streams } = make()
    const [a] = registered(streams, ['1'])
    streams.start([a!])
    streams.item('1', 'a', 10)
    streams.item('1', 'b', 20)
    expect(streams.bufferedBytes).toBe(30)
    expect(await take(a!, 2)).toEqual(['a', 'b'])
    expect(streams.bufferedBytes).toBe(0)
  })

  it('holds the reading when a running stream is full, and resumes once its method takes an item', async () => {
    const { streams, holds } = make()
    const [a] = registered(streams, ['1'])
    streams.start([a!])
    for (let i = 0; i < 5; i++) streams.item('1', i, 10)
    expect(holds).toEqual([true])
    expect(await take(a!, 1)).toEqual([0])
    expect(holds).toEqual([true, false])
  })

  it('holds the reading when the bytes of all streams pass the bound, until the methods take enough', async () => {
    const { streams, holds } = make()
    const [a, b] = registered(streams, ['1', '2'])
    streams.start([a!, b!])
    streams.item('1', 'a', 600)
    streams.item('2', 'b', 600)
    expect([holds, streams.bufferedBytes]).toEqual([[true], 1200])
    await take(b!, 1)
    expect([holds, streams.bufferedBytes]).toEqual([[true, false], 600])
  })

  it('drops a stream whose method has not started once it holds more items than a stream may, without holding the reading', async () => {
    const { streams, holds } = make()
    const [a] = registered(streams, ['1'])
    for (let i = 0; i < 6; i++) streams.item('1', i, 10)
    expect([holds, streams.bufferedBytes]).toEqual([[], 0])
    streams.start([a!])
    await expect(take(a!, 1)).rejects.toThrow("Stream '1' was dropped: more than 5 items arrived before the hub method started.")
  })

  it('drops the streams of waiting methods when the bytes pass the bound, so the running ones can go on', async () => {
    const { streams, holds, drops } = make()
    const [running] = registered(streams, ['r'])
    const [waiting] = registered(streams, ['w'])
    streams.start([running!])
    streams.item('w', 'queued', 900)
    streams.item('r', 'now', 200)
    // The waiting stream's bytes are gone; the running one is under the bound: no hold.
    expect([holds, streams.bufferedBytes, drops.length]).toEqual([[], 200, 1])
    expect(await take(running!, 1)).toEqual(['now'])
    streams.start([waiting!])
    await expect(take(waiting!, 1)).rejects.toThrow("Stream 'w' was dropped: the connection's streams held more than 1000 bytes before the hub method started.")
  })

  it('resumes the reading, and reports no stall, once a method takes items', async () => {
    vi.useFakeTimers()
    const { streams, stalls } = make()
    const [a] = registered(streams, ['1'])
    streams.start([a!])
    streams.item('1', 'big', 2000)
    vi.advanceTimersByTime(600)
    streams.item('1', 'more', 10)
    await take(a!, 1)
    vi.advanceTimersByTime(600)
    expect(stalls).toHaveLength(0)
    expect(streams.isHolding).toBe(false)
  })

  it('names the bound that was passed in the error of every stream it drops', async () => {
    const { streams } = make()
    const waiting = registered(streams, ['1', '2', '3'])
    streams.item('1', 'a', 400)
    streams.item('2', 'b', 400)
    streams.item('3', 'c', 400)
    streams.start(waiting)
    for (const stream of waiting) {
      await expect(take(stream, 1)).rejects.toThrow(`Stream '${stream.id}' was dropped: the connection's streams held more than 1000 bytes before the hub method started.`)
    }
  })

  it('reports a stall once the reading has been held for stallMs without progress', () => {
    vi.useFakeTimers()
    const { streams, stalls } = make()
    const [a] = registered(streams, ['1'])
    streams.start([a!])
    streams.item('1', 'big', 2000)
    vi.advanceTimersByTime(999)
    expect(stalls).toHaveLength(0)
    vi.advanceTimersByTime(1)
    expect(stalls).toHaveLength(1)
  })

  it('fails every stream when the connection ends and holds nothing', async () => {
    const { streams } = make()
    const [a] = registered(streams, ['1'])
    streams.start([a!])
    streams.item('1', 'x', 100)
    streams.end()
    expect([streams.open, streams.bufferedBytes, streams.isHolding]).toEqual([0, 0, false])
    await expect(take(a!, 1)).rejects.toThrow('The connection closed.')
  })

  it('is written as null when passed on as an argument', () => {
    const { streams } = make()
    const [a] = registered(streams, ['1'])
    streams.item('1', 'secret', 10)
    expect(JSON.stringify({ args: [1, a] })).toBe('{"args":[1,null]}')
  })
})

describe('ClientStreams on a node past its bound', () => {
  it('counts every connection in the pool, and reads each again once its own methods took what it holds', async () => {
    const pool = new StreamBufferPool(1000)
    const a = make({ maxStreamBufferBytes: 10_000 }, pool)
    const b = make({ maxStreamBufferBytes: 10_000 }, pool)
    const [aStream] = registered(a.streams, ['1'])
    const [bStream] = registered(b.streams, ['1'])
    a.streams.start([aStream!])
    b.streams.start([bStream!])
    a.streams.item('1', 'big', 1200)
    expect([pool.bytes, a.holds]).toEqual([1200, [true]])
    // B holds little, but the node is past its bound: B is not read until its method took it.
    b.streams.item('1', 'small', 10)
    expect(b.holds).toEqual([true])
    await take(bStream!, 1)
    expect([b.holds, pool.bytes]).toEqual([[true, false], 1200])
    await take(aStream!, 1)
    expect([a.holds, pool.bytes]).toEqual([[true, false], 0])
  })

  it("drops a waiting method's stream with the node's bound in its error", async () => {
    const pool = new StreamBufferPool(1000)
    const a = make({ maxStreamBufferBytes: 10_000 }, pool)
    const b = make({ maxStreamBufferBytes: 10_000 }, pool)
    const [aStream] = registered(a.streams, ['1'])
    a.streams.start([aStream!])
    a.streams.item('1', 'big', 1200)
    const [waiting] = registered(b.streams, ['w'])
    b.streams.item('w', 'queued', 10)
    expect([b.holds, pool.bytes, b.drops.length]).toEqual([[], 1200, 1])
    b.streams.start([waiting!])
    await expect(take(waiting!, 1)).rejects.toThrow("Stream 'w' was dropped: the server's client streams held more than 1000 bytes before the hub method started.")
  })

  it('gives the pool back what a connection held when it ends', () => {
    const pool = new StreamBufferPool(1000)
    const a = make({}, pool)
    const [aStream] = registered(a.streams, ['1'])
    a.streams.start([aStream!])
    a.streams.item('1', 'x', 300)
    a.streams.end()
    expect(pool.bytes).toBe(0)
  })
})
