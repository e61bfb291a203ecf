/**
 * Client-to-server streams cannot grow the server's memory: the number of streams per invocation
 * and per connection is bounded (an invocation over it is refused and its ids never registered),
 * and so are the bytes a connection's streams hold: past them the server stops reading the
 * connection until the hub methods take items, drops the streams of calls still queued, and
 * closes a connection whose methods take nothing. A well-behaved upload still arrives whole.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { Hub, HubBase, HubMethod } from '../../src/index.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import { RawHubClient } from '../support/raw-hub-client.js'

const fixture = natsFixture({ nodes: [{ hubs: [DefaultHub] }] })

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after full collections: what the node still holds. */
function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

const MB = 1024 * 1024
const RS = '\u001e'

/** A hub method that takes a client stream and never reads it, until its connection ends. */
@Hub({ name: 'stall', path: '/hubs/stall' })
class StallHub extends HubBase {
  @HubMethod()
  async ignore(items: AsyncIterable<unknown>): Promise<void> {
    void items
    await new Promise<void>((resolve) => this.signal.addEventListener('abort', () => resolve()))
  }
}

async function bystanderWorks(): Promise<void> {
  await using bystander = await connectClient(fixture.server.hubUrl())
  await expect(bystander.invoke('publish', 'bystander.ok', 1)).resolves.toBeNull()
}

/**
 * A round trip behind everything sent so far: an unknown method is answered at once, not queued,
 * so its Completion says the node has read (and handled) what came before it.
 */
let probes = 0
async function readEverything(client: RawHubClient): Promise<void> {
  const invocationId = `probe${probes++}`
  client.send({ type: 1, invocationId, target: 'noSuchMethod', arguments: [] })
  expect((await client.completion(invocationId, 15_000)).error).toBe("Failed to invoke 'noSuchMethod' due to an error on the server. HubException: Method does not exist.")
}

/** Opens publishStream('attack.hold') on stream `s0`: it runs, and everything else queues behind it. */
function holdTheQueue(client: RawHubClient): void {
  client.send({ type: 1, invocationId: 'hold', target: 'publishStream', arguments: ['attack.hold'], streamIds: ['s0'] })
}

describe('stream counts', () => {
  it('refuses invocations with thousands of stream ids, registers none, and drops items sent to them (attack B)', async () => {
    const client = await RawHubClient.connect(fixture.server.hubUrl())
    holdTheQueue(client)
    const before = heapAfterGc()
    const calls = 32
    const perCall = 3000
    for (let call = 0; call < calls; call++) {
      const streamIds = Array.from({ length: perCall }, (_, i) => `b${call}-${i}`)
      client.send({ type: 1, invocationId: `b${call}`, target: 'publish', arguments: ['attack.b'], streamIds })
    }
    for (let call = 0; call < calls; call++) {
      expect((await client.completion(`b${call}`)).error).toBe(
        "An unexpected error occurred invoking 'publish' on the server. HubException: Client sent 3000 stream(s); at most 8 are allowed per invocation.",
      )
    }
    // An item for every id the client announced: none of them is open, each is dropped.
    const deadline = Date.now() + 15_000
    const item = JSON.stringify('x'.repeat(100))
    for (let call = 0; call < calls; call++) {
      // 500 frames per WebSocket message, well under the node's largest message.
      for (let start = 0; start < perCall; start += 500) {
        let batch = ''
        for (let i = start; i < start + 500; i++) batch += `{"type":2,"invocationId":"b${call}-${i}","item":${item}}${RS}`
        expect(await client.sendPaced(batch, deadline)).toBe(true)
      }
    }
    await readEverything(client)
    const growth = heapAfterGc() - before
    // Without the bounds the node kept 96,000 streams and their items (about 40 MB).
    expect(growth).toBeLessThan(8 * MB)
    expect(fixture.server.metrics.get('invocations_streams_refused')).toBeGreaterThanOrEqual(calls)
    await bystanderWorks()
    await client.close()
  }, 40_000)

  it('refuses a stream past the per-connection bound, counting the streams of queued calls', async () => {
    const client = await RawHubClient.connect(fixture.server.hubUrl())
    holdTheQueue(client)
    for (let i = 1; i <= 32; i++) client.send({ type: 1, invocationId: `q${i}`, target: 'publishStream', arguments: ['attack.q'], streamIds: [`s${i}`] })
    expect((await client.completion('q32')).error).toBe(
      "An unexpected error occurred invoking 'publishStream' on the server. HubException: Too many client streams: at most 32 may be open on a connection (32 open, 1 more sent).",
    )
    // Ending the running upload lets the queue run; the refused id stays unknown.
    client.send({ type: 3, invocationId: 's0' })
    for (let i = 1; i < 32; i++) client.send({ type: 3, invocationId: `s${i}` })
    expect(await client.completion('hold')).toMatchObject({ result: 0 })
    expect(await client.completion('q31')).toMatchObject({ result: 0 })
    await client.close()
  })
})

describe('stream ids', () => {
  it('frees the stream ids of a refused call: a later call may use them', async () => {
    await using echoServer = await startTestServer({ hubs: [EchoHub] })
    const client = await RawHubClient.connect(echoServer.hubUrl('/hubs/echo'))
    client.send({ type: 4, invocationId: 'x', target: 'infinite', arguments: [] })
    client.send({ type: 4, invocationId: 'x', target: 'counter', arguments: [1], streamIds: ['s1'] })
    expect((await client.completion('x')).error).toBe("Invocation ID 'x' is already in use.")
    client.send({ type: 1, invocationId: 'y', target: 'concat', arguments: [], streamIds: ['s1'] })
    client.send({ type: 2, invocationId: 's1', item: 'reused' })
    client.send({ type: 3, invocationId: 's1' })
    expect(await client.completion('y')).toMatchObject({ result: 'reused' })
    client.send({ type: 5, invocationId: 'x' })
    await client.close()
  })
})

describe('stream bytes', () => {
  it('keeps the memory of 20 MB of items sent to a running and 31 queued uploads bounded (attack A)', async () => {
    const client = await RawHubClient.connect(fixture.server.hubUrl())
    holdTheQueue(client)
    const ids = ['s0']
    for (let i = 1; i <= 31; i++) {
      client.send({ type: 1, invocationId: `a${i}`, target: 'publishStream', arguments: ['attack.a'], streamIds: [`s${i}`] })
      ids.push(`s${i}`)
    }
    const before = heapAfterGc()
    // ~30 KB frames whose items are arrays of numbers: about 4 times their size once parsed.
    const item = `[${Array(15_000).fill(1).join(',')}]`
    const deadline = Date.now() + 20_000
    let sent = 0
    for (let n = 0; sent < 20 * MB; n++) {
      const frame = `{"type":2,"invocationId":"${ids[n % ids.length]}","item":${item}}${RS}`
      if (!(await client.sendPaced(frame, deadline))) break
      sent += frame.length
    }
    expect(sent).toBeGreaterThanOrEqual(20 * MB)
    await readEverything(client)
    const growth = heapAfterGc() - before
    // Without the bound the node kept every item of the queued uploads: about 80 MB here.
    expect(growth).toBeLessThan(16 * MB)
    await bystanderWorks()
    // The running upload goes on; the queued ones were dropped, and say so when they run.
    for (const id of ids) client.send({ type: 3, invocationId: id })
    expect(fixture.server.metrics.get('client_streams_dropped')).toBeGreaterThanOrEqual(31)
    expect((await client.completion('hold', 15_000)).error).toBeUndefined()
    expect((await client.completion('a5', 15_000)).error).toBe(
      "An unexpected error occurred invoking 'publishStream' on the server. HubException: Stream 's5' was dropped: the connection's streams held more than 1048576 bytes before the hub method started.",
    )
    await client.close()
  }, 60_000)

  it('closes a connection whose hub method never reads its stream, once the reading was held for the client timeout', async () => {
    await using stallServer = await startTestServer({ hubs: [StallHub], config: { hubs: { keepAliveIntervalMs: 500, clientTimeoutMs: 1500 } } })
    const client = await RawHubClient.connect(stallServer.hubUrl('/hubs/stall'))
    client.send({ type: 1, invocationId: '1', target: 'ignore', arguments: [], streamIds: ['s'] })
    const deadline = Date.now() + 10_000
    const frame = `{"type":2,"invocationId":"s","item":"${'x'.repeat(1000)}"}${RS}`
    while (client.ws.readyState === client.ws.OPEN && (await client.sendPaced(frame, deadline, 256 * 1024))) {
      // Sent until the node stops reading and our socket fills, or it closes us.
    }
    await withTimeout(client.closed, 10_000, 'the node to close the connection')
    expect(client.closeMessage?.error).toMatch(
      /^Connection closed with an error\. HubException: The hub methods took none of the \d+ bytes of client stream items waiting for 1\.5 s\.$/,
    )
    expect(client.closeMessage?.allowReconnect).toBe(true)
    expect(stallServer.metrics.get('connections_closed_streams_stalled')).toBe(1)
  }, 20_000)
})

describe('stream bytes of the whole node', () => {
  it('keeps 20 connections whose methods never read to the node bound, not 20 times the connection bound', async () => {
    await using stallServer = await startTestServer({ hubs: [StallHub], config: { hubs: { maxStreamBufferBytesPerNode: 2 * MB } } })
    const before = heapAfterGc()
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawHubClient.connect(stallServer.hubUrl('/hubs/stall'))))
    const item = `[${Array(15_000).fill(1).join(',')}]`
    const deadline = Date.now() + 4000
    await Promise.all(
      clients.map(async (client) => {
        client.send({ type: 1, invocationId: '1', target: 'ignore', arguments: [], streamIds: ['s'] })
        const frame = `{"type":2,"invocationId":"s","item":${item}}${RS}`
        // Each sends until the node stops reading it and its socket backs up.
        while (await client.sendPaced(frame, deadline, 256 * 1024)) {
          // keep sending
        }
      }),
    )
    const growth = heapAfterGc() - before
    // With only the 1 MiB per connection bound the node kept about 80 MB here.
    expect(growth).toBeLessThan(32 * MB)
    await using bystander = await connectClient(stallServer.hubUrl('/hubs/stall'))
    expect(bystander.state).toBe(signalR.HubConnectionState.Connected)
    // The node reads none of them now, not even a close frame: cut their sockets.
    for (const client of clients) client.ws.terminate()
  }, 30_000)
})

describe('well-behaved uploads', () => {
  it.each([
    ['WebSockets', signalR.HttpTransportType.WebSockets, 3000],
    ['LongPolling', signalR.HttpTransportType.LongPolling, 1000],
    ['ServerSentEvents', signalR.HttpTransportType.ServerSentEvents, 1000],
    ['WebSockets with MessagePack', signalR.HttpTransportType.WebSockets, 3000, new MessagePackHubProtocol()],
  ])('publishStream over %s delivers a burst of items to the services, in order', async (name, transport, count, protocol?: signalR.IHubProtocol) => {
    const topic = `upload.${name.replace(/\W/g, '')}`
    const listener = await fixture.service.listen(`im.default.receive.${topic}`)
    await using client = await connectClient(fixture.server.hubUrl(), { transport, ...(protocol ? { protocol } : {}) })
    const heldBefore = fixture.server.metrics.get('client_streams_reading_held')
    const items = new signalR.Subject<{ seq: number; pad: string }>()
    const result = client.invoke('publishStream', topic, items)
    // Far past the 100 items a stream holds: the node reads as fast as it forwards.
    for (let seq = 0; seq < count; seq++) items.next({ seq, pad: 'p'.repeat(40) })
    items.complete()
    await expect(withTimeout(result, 30_000, 'the upload to complete')).resolves.toBe(count)
    // Over WebSockets the burst arrives faster than it is forwarded: the node paused reading.
    if (transport === signalR.HttpTransportType.WebSockets) expect(fixture.server.metrics.get('client_streams_reading_held')).toBeGreaterThan(heldBefore)
    for (let seq = 0; seq < count; seq++) {
      expect(((await listener.next()).json as { args: [{ seq: number }] }).args[0].seq).toBe(seq)
    }
  }, 40_000)
})
