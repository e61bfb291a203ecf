/**
 * A load-generator process: many minimal raw-protocol clients (raw-client.ts) that read every frame,
 * answer nothing but keep-alives, and count what arrives for the current phase: receipts,
 * duplicates, strays from other phases, and publish-to-receive latency from the stamp in the
 * payload. Clients of a targeted phase belong to a user, and the report lists what each received,
 * so the orchestrator can check that a user's connections got that user's messages and nobody
 * else's. It also runs closed-loop invocations (worker-invoke.ts) and connection churn
 * (worker-churn.ts). The orchestrator drives it over IPC (see load-pool.ts).
 */
import WebSocket from 'ws'
import { Histogram } from './histogram.js'
import { PING } from './protocol.js'
import type { InboundRecord } from './protocol.js'
import { closeClient, openOne, withToken } from './raw-client.js'
import type { Client, Sink } from './raw-client.js'
import { runChurn } from './worker-churn.js'
import { onCompletion, runInvocations } from './worker-invoke.js'
import type { ClientKind, WorkerReply, WorkerRequest } from './load-pool.js'

// IMService closes a client silent for 30 s (ASP.NET Core's ClientTimeout); 10 s keeps a margin.
const PING_EVERY_MS = 10_000
// A worker outlives no run: the orchestrator's own bound is shorter than this.
const MAX_LIFETIME_MS = Number(process.env.BENCH_WORKER_MAX_MS ?? 30 * 60_000)

const clients: Client[] = []
/** A client's index in `clients`, for invocation tags; kept beside it so the hot path needs no search. */
const indexOf = new Map<Client, number>()
let phase = -1
let stats = freshStats()
let progressTimer: NodeJS.Timeout | undefined

function freshStats() {
  return { received: 0, duplicates: 0, stray: 0, closedByServer: 0, otherFrames: 0, histogram: new Histogram() }
}

function send(reply: WorkerReply): void {
  process.send?.(reply)
}

const sink: Sink = {
  record(client: Client, record: InboundRecord, now: number): void {
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
      case 'completion':
        onCompletion(client, indexOf.get(client) ?? -1, record.id, record.error, now)
        break
      case 'close':
        stats.closedByServer += 1
        break
      case 'ping':
        break
      default:
        stats.otherFrames += 1
    }
  },
}

async function connect(url: string, kind: ClientKind, count: number, concurrency: number, tokens?: string[], users?: number[]): Promise<WorkerReply> {
  const started = Date.now()
  const errors = new Map<string, number>()
  let next = 0
  let failed = 0
  const lane = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      try {
        const client = await openOne(withToken(url, tokens?.[i]), kind, users?.[i] ?? -1, sink)
        indexOf.set(client, clients.length)
        clients.push(client)
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
  for (const client of closing) indexOf.delete(client)
  await Promise.all(closing.map(closeClient))
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
  const perUser: Array<[number, number]> = []
  for (const client of clients) {
    if (client.received < perClientMin) perClientMin = client.received
    if (client.received > perClientMax) perClientMax = client.received
    if (client.user >= 0) perUser.push([client.user, client.received])
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
    perUser,
    histogram: stats.histogram.toJSON(),
  }
  phase = -1
  return out
}

process.on('message', (message: WorkerRequest) => {
  const answer = async (): Promise<WorkerReply> => {
    switch (message.op) {
      case 'connect':
        return connect(message.url, message.client, message.count, message.concurrency, message.tokens, message.users)
      case 'trim':
        return trim(message.count)
      case 'phase':
        return startPhase(message.phase)
      case 'report':
        return report()
      case 'invoke':
        return { op: 'invoked', ...(await runInvocations(clients, message.phase, message.durationMs, message.drainMs)) }
      case 'churn':
        return { op: 'churned', ...(await runChurn(message.request)) }
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
  // Socket.IO and NATS clients answer the server's pings instead.
  for (const client of clients) if (client.kind === 'signalr' && client.ws.readyState === WebSocket.OPEN) client.ws.send(PING)
}, PING_EVERY_MS).unref()
// Orphaned (the orchestrator died): leave at once. Bounded in any case.
process.on('disconnect', () => process.exit(0))
setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref()
send({ op: 'hello' })
