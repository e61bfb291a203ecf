/**
 * A load-generator process: many minimal raw-protocol clients over `ws`, which read every frame,
 * answer nothing but keep-alives, and count what arrives for the current phase: receipts,
 * duplicates, strays from other phases, and publish-to-receive latency from the stamp in the
 * payload. The orchestrator drives it over IPC (see load-pool.ts). Two client kinds:
 * - `signalr`: no negotiate, JSON handshake, a keep-alive ping every 10 s;
 * - `socketio`: Engine.IO 4 over the WebSocket transport only: the `0{...}` open packet, `40` to
 *   join the default namespace (ready at the server's `40{...}`), `42["tick",...]` events, each
 *   server ping `2` answered with `3`.
 */
import WebSocket from 'ws'
import { Histogram } from './histogram.js'
import { HANDSHAKE_REQUEST, PING, RECORD_SEPARATOR, nowMicros, readRecord, readSocketIoPacket } from './protocol.js'
import type { InboundRecord } from './protocol.js'
import type { ClientKind, WorkerReply, WorkerRequest } from './load-pool.js'

const CONNECT_TIMEOUT_MS = 15_000
// IMService closes a client silent for 30 s (ASP.NET Core's ClientTimeout); 10 s keeps a margin.
const PING_EVERY_MS = 10_000
// A worker outlives no run: the orchestrator's own bound is shorter than this.
const MAX_LIFETIME_MS = Number(process.env.BENCH_WORKER_MAX_MS ?? 30 * 60_000)

interface Client {
  readonly ws: WebSocket
  readonly kind: ClientKind
  ready: boolean
  lastSeq: number
  received: number
}

const clients: Client[] = []
let phase = -1
let stats = freshStats()
let progressTimer: NodeJS.Timeout | undefined

function freshStats() {
  return { received: 0, duplicates: 0, stray: 0, closedByServer: 0, otherFrames: 0, histogram: new Histogram() }
}

function send(reply: WorkerReply): void {
  process.send?.(reply)
}

function onData(client: Client, data: Buffer): void {
  const now = nowMicros()
  if (client.kind === 'socketio') return onSocketIo(client, data, now)
  let start = 0
  for (;;) {
    const end = data.indexOf(RECORD_SEPARATOR, start)
    if (end < 0) break // a SignalR text frame always ends with the separator; a tail without one is not a record
    const record = readRecord(data, start, end)
    start = end + 1
    count(client, record, now)
  }
}

/** One WebSocket message is one Engine.IO packet. */
function onSocketIo(client: Client, data: Buffer, now: number): void {
  const packet = readSocketIoPacket(data.toString('latin1'))
  switch (packet.kind) {
    case 'open':
      client.ws.send('40')
      return
    case 'connected':
      client.ready = true
      return
    case 'ping':
      client.ws.send('3')
      return
    default:
      count(client, packet, now)
  }
}

function count(client: Client, record: InboundRecord, now: number): void {
  switch (record.kind) {
    case 'tick':
      if (record.phase !== phase) {
        stats.stray += 1
      } else if (record.seq <= client.lastSeq) {
        // One publisher, one subscription, one TCP stream: order is kept, so an old seq is a duplicate.
        stats.duplicates += 1
      } else {
        client.lastSeq = record.seq
        client.received += 1
        stats.received += 1
        stats.histogram.record(now - record.sentAt)
      }
      break
    case 'handshake':
      client.ready = true
      break
    case 'close':
      stats.closedByServer += 1
      break
    case 'ping':
      break
    default:
      stats.otherFrames += 1
  }
}

function openOne(url: string, kind: ClientKind): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS })
    const client: Client = { ws, kind, ready: false, lastSeq: -1, received: 0 }
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('handshake timeout'))
    }, CONNECT_TIMEOUT_MS)
    // Socket.IO speaks first (its open packet); SignalR waits for the client's handshake.
    if (kind === 'signalr') ws.on('open', () => ws.send(HANDSHAKE_REQUEST))
    const onMessage = (data: Buffer): void => {
      onData(client, data)
      if (!client.ready) return
      clearTimeout(timer)
      resolve(client)
      // From here on the hot path is onData alone.
      ws.off('message', onMessage)
      ws.on('message', (next: Buffer) => onData(client, next))
    }
    ws.on('message', onMessage)
    ws.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    ws.on('close', () => {
      clearTimeout(timer)
      if (!client.ready) reject(new Error('closed before the handshake'))
    })
  })
}

async function connect(url: string, kind: ClientKind, count: number, concurrency: number): Promise<WorkerReply> {
  const started = Date.now()
  const errors = new Map<string, number>()
  let next = 0
  let failed = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      next += 1
      try {
        clients.push(await openOne(url, kind))
      } catch (error) {
        failed += 1
        const key = error instanceof Error ? error.message : String(error)
        errors.set(key, (errors.get(key) ?? 0) + 1)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, lane))
  return { op: 'connected', open: openCount(), failed, ms: Date.now() - started, errors: Object.fromEntries(errors) }
}

async function trim(count: number): Promise<WorkerReply> {
  const closing = clients.splice(count)
  await Promise.all(
    closing.map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === WebSocket.CLOSED) return resolve()
          const timer = setTimeout(() => {
            client.ws.terminate()
            resolve()
          }, 5000)
          client.ws.once('close', () => {
            clearTimeout(timer)
            resolve()
          })
          client.ws.close(1000)
        }),
    ),
  )
  return { op: 'trimmed', open: openCount() }
}

function openCount(): number {
  let open = 0
  for (const client of clients) if (client.ws.readyState === WebSocket.OPEN && client.ready) open += 1
  return open
}

function minSeq(): number {
  let min = Number.POSITIVE_INFINITY
  for (const client of clients) if (client.lastSeq < min) min = client.lastSeq
  return clients.length === 0 ? -1 : min
}

function startPhase(id: number): WorkerReply {
  phase = id
  stats = freshStats()
  for (const client of clients) {
    client.lastSeq = -1
    client.received = 0
  }
  clearInterval(progressTimer)
  // Progress feeds the publisher's in-flight window: the slowest client bounds what may be queued.
  progressTimer = setInterval(() => send({ op: 'progress', phase, minSeq: minSeq(), received: stats.received }), 20)
  return { op: 'phase-started', phase: id, clients: clients.length }
}

function report(): WorkerReply {
  clearInterval(progressTimer)
  progressTimer = undefined
  let perClientMin = Number.POSITIVE_INFINITY
  let perClientMax = 0
  for (const client of clients) {
    if (client.received < perClientMin) perClientMin = client.received
    if (client.received > perClientMax) perClientMax = client.received
  }
  const out: WorkerReply = {
    op: 'report',
    phase,
    clients: clients.length,
    open: openCount(),
    received: stats.received,
    duplicates: stats.duplicates,
    stray: stats.stray,
    closedByServer: stats.closedByServer,
    otherFrames: stats.otherFrames,
    perClientMin: clients.length === 0 ? 0 : perClientMin,
    perClientMax,
    histogram: stats.histogram.toJSON(),
  }
  phase = -1
  return out
}

process.on('message', (message: WorkerRequest) => {
  const answer = async (): Promise<WorkerReply> => {
    switch (message.op) {
      case 'connect':
        return connect(message.url, message.client, message.count, message.concurrency)
      case 'trim':
        return trim(message.count)
      case 'phase':
        return startPhase(message.phase)
      case 'report':
        return report()
      case 'exit':
        await trim(0)
        setImmediate(() => process.exit(0))
        return { op: 'exiting' }
    }
  }
  answer().then(
    (reply) => send({ ...reply, id: message.id }),
    (error: unknown) => send({ op: 'error', id: message.id, message: error instanceof Error ? error.message : String(error) }),
  )
})

// One timer for every client, as a real client library runs one per connection but costs less here.
setInterval(() => {
  // Socket.IO clients answer the server's pings instead.
  for (const client of clients) if (client.kind === 'signalr' && client.ws.readyState === WebSocket.OPEN) client.ws.send(PING)
}, PING_EVERY_MS).unref()
// Orphaned (the orchestrator died): leave at once. Bounded in any case.
process.on('disconnect', () => process.exit(0))
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref()
send({ op: 'hello' })
