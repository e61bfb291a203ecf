/**
 * The orchestrator's side of the load generators: N worker processes (load-worker.ts) pinned to the
 * load core, driven by request/answer over IPC, each answer bounded in time. Connections are split
 * evenly across workers; reports are summed and their histograms merged.
 */
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Histogram } from './histogram.js'
import { cpuSeconds, rssBytes, spawnPinned, stopProcess, within } from './procs.js'
import type { ChurnCounts, ChurnRequest } from './worker-churn.js'
import type { InvokeCounts } from './worker-invoke.js'

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The raw protocol a load client speaks (load-worker.ts): the target names it. */
export type ClientKind = 'signalr' | 'socketio' | 'natsws'

export type WorkerRequest = { id: number } & (
  | { op: 'connect'; url: string; client: ClientKind; count: number; concurrency: number; tokens?: string[]; users?: number[] }
  | { op: 'trim'; count: number }
  | { op: 'phase'; phase: number }
  | { op: 'report' }
  | { op: 'invoke'; phase: number; durationMs: number; drainMs: number }
  | { op: 'churn'; request: ChurnRequest }
  | { op: 'exit' }
)

export interface WorkerReport {
  op: 'report'
  phase: number
  clients: number
  open: number
  received: number
  duplicates: number
  stray: number
  closedByServer: number
  otherFrames: number
  perClientMin: number
  perClientMax: number
  /** [user, ticks received] for each client that belongs to a user (targeted phases). */
  perUser: Array<[number, number]>
  histogram: { buckets: Array<[number, number]>; count: number; max: number }
}

export type WorkerReply = { id?: number } & (
  | { op: 'hello' }
  | { op: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }
  | { op: 'trimmed'; open: number }
  | { op: 'phase-started'; phase: number; clients: number }
  | { op: 'progress'; phase: number; minSeq: number; received: number }
  | WorkerReport
  | ({ op: 'invoked' } & InvokeCounts)
  | ({ op: 'churned' } & ChurnCounts)
  | { op: 'exiting' }
  | { op: 'error'; message: string }
)

/** What all workers saw in one phase, summed. */
export interface PoolReport {
  clients: number
  open: number
  received: number
  duplicates: number
  stray: number
  closedByServer: number
  otherFrames: number
  perClientMin: number
  perClientMax: number
  perUser: Array<[number, number]>
  histogram: Histogram
}

class Worker {
  private nextId = 1
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply) => void; reject: (error: Error) => void }>()
  minSeq = -1
  received = 0
  count = 0

  constructor(readonly proc: ChildProcess) {
    proc.once('exit', (code, signal) => {
      for (const { reject } of this.pending.values()) reject(new Error(`load worker ${proc.pid} exited (code ${code}, signal ${signal})`))
      this.pending.clear()
    })
    proc.on('message', (reply: WorkerReply) => {
      if (reply.op === 'progress') {
        this.minSeq = reply.minSeq
        this.received = reply.received
        return
      }
      if (reply.id === undefined) return
      const waiter = this.pending.get(reply.id)
      this.pending.delete(reply.id)
      waiter?.resolve(reply)
    })
  }

  async request<R extends WorkerReply>(request: DistributiveOmit<WorkerRequest, 'id'>, ms: number): Promise<R> {
    const id = this.nextId++
    const answer = new Promise<WorkerReply>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    this.proc.send({ ...request, id })
    const reply = await within(answer, ms, `load worker ${this.proc.pid} ${request.op}`)
    if (reply.op === 'error') throw new Error(`load worker ${this.proc.pid}: ${reply.message}`)
    return reply as R
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

export class LoadPool {
  private constructor(private readonly workers: Worker[]) {}

  static async start(size: number, core: number | undefined): Promise<LoadPool> {
    const workers = await Promise.all(
      Array.from({ length: size }, async () => {
        const proc = spawnPinned(core, process.execPath, ['--import', 'tsx', WORKER], {
          cwd: ROOT,
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        })
        const hello = new Promise<void>((resolve, reject) => {
          proc.once('message', () => resolve())
          proc.once('exit', (code) => reject(new Error(`load worker exited before starting (code ${code})`)))
        })
        await within(hello, 20_000, 'load worker start')
        return new Worker(proc)
      }),
    )
    return new LoadPool(workers)
  }

  get pids(): number[] {
    return this.workers.map((w) => w.proc.pid!).filter(Boolean)
  }

  /** CPU seconds all workers used so far. */
  cpuSeconds(): number {
    return this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0)
  }

  rssBytes(): number {
    return this.pids.reduce((sum, pid) => sum + rssBytes(pid), 0)
  }

  /** Brings the open connections to `total` (opening or closing), split evenly; returns open, failed and errors. */
  async ensure(url: string, total: number, client: ClientKind = 'signalr'): Promise<{ open: number; failed: number; ms: number; errors: Record<string, number> }> {
    const share = (i: number): number => Math.floor(total / this.workers.length) + (i < total % this.workers.length ? 1 : 0)
    const started = Date.now()
    const results = await Promise.all(
      this.workers.map(async (worker, i) => {
        const want = share(i)
        if (want < worker.count) {
          const reply = await worker.request<{ op: 'trimmed'; open: number }>({ op: 'trim', count: want }, 60_000)
          worker.count = want
          return { open: reply.open, failed: 0, errors: {} }
        }
        const reply = await worker.request<{ op: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }>(
          // Up to 100 handshakes in flight per worker: well inside the server's listen backlog (511).
          { op: 'connect', url, client, count: want - worker.count, concurrency: 100 },
          Math.max(30_000, (want - worker.count) * 20),
        )
        worker.count = want
        return reply
      }),
    )
    const errors: Record<string, number> = {}
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
    return {
      open: results.reduce((s, r) => s + r.open, 0),
      failed: results.reduce((s, r) => s + r.failed, 0),
      ms: Date.now() - started,
      errors,
    }
  }

  /**
   * Opens one connection per entry, each with its user's token (targeted delivery), split evenly
   * across workers, on top of what is open (none, in practice: the caller closes the rest first).
   */
  async connectUsers(url: string, client: ClientKind, connections: ReadonlyArray<{ user: number; token: string }>): Promise<{ open: number; failed: number; ms: number; errors: Record<string, number> }> {
    const started = Date.now()
    const results = await Promise.all(
      this.workers.map(async (worker, w) => {
        const mine = connections.filter((_, i) => i % this.workers.length === w)
        const reply = await worker.request<{ op: 'connected'; open: number; failed: number; ms: number; errors: Record<string, number> }>(
          { op: 'connect', url, client, count: mine.length, concurrency: 100, tokens: mine.map((c) => c.token), users: mine.map((c) => c.user) },
          Math.max(30_000, mine.length * 20),
        )
        worker.count += mine.length
        return reply
      }),
    )
    const errors: Record<string, number> = {}
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
    return { open: results.reduce((s, r) => s + r.open, 0), failed: results.reduce((s, r) => s + r.failed, 0), ms: Date.now() - started, errors }
  }

  /** Closed-loop invocations from every open client of every worker (worker-invoke.ts); counts summed, histograms merged. */
  async invoke(phase: number, durationMs: number, drainMs: number): Promise<Omit<InvokeCounts, 'histogram'> & { histogram: Histogram }> {
    const replies = await Promise.all(this.workers.map((w) => w.request<{ op: 'invoked' } & InvokeCounts>({ op: 'invoke', phase, durationMs, drainMs }, durationMs + drainMs + 10_000)))
    const histogram = new Histogram()
    for (const r of replies) histogram.merge(r.histogram)
    const sum = (key: 'sent' | 'completed' | 'errors' | 'unexpected' | 'missing'): number => replies.reduce((s, r) => s + r[key], 0)
    return {
      sent: sum('sent'),
      completed: sum('completed'),
      errors: sum('errors'),
      unexpected: sum('unexpected'),
      missing: sum('missing'),
      seconds: Math.max(...replies.map((r) => r.seconds)),
      histogram,
    }
  }

  /** Connection churn from every worker at once, `request.lanes` loops each (worker-churn.ts). */
  async churn(request: ChurnRequest): Promise<Omit<ChurnCounts, 'histogram'> & { histogram: Histogram }> {
    const replies = await Promise.all(this.workers.map((w) => w.request<{ op: 'churned' } & ChurnCounts>({ op: 'churn', request }, request.durationMs + 30_000)))
    const histogram = new Histogram()
    const errors: Record<string, number> = {}
    for (const r of replies) {
      histogram.merge(r.histogram)
      for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
    }
    return {
      attempts: replies.reduce((s, r) => s + r.attempts, 0),
      connects: replies.reduce((s, r) => s + r.connects, 0),
      failed: replies.reduce((s, r) => s + r.failed, 0),
      errors,
      seconds: Math.max(...replies.map((r) => r.seconds)),
      histogram,
    }
  }

  async startPhase(phase: number): Promise<void> {
    for (const worker of this.workers) {
      worker.minSeq = -1
      worker.received = 0
    }
    await Promise.all(this.workers.map((w) => w.request({ op: 'phase', phase }, 10_000)))
  }

  /** The highest seq every client of every worker has received (from the workers' 20 ms progress). */
  minSeq(): number {
    return Math.min(...this.workers.map((w) => w.minSeq))
  }

  received(): number {
    return this.workers.reduce((s, w) => s + w.received, 0)
  }

  async report(): Promise<PoolReport> {
    const reports = await Promise.all(this.workers.map((w) => w.request<WorkerReport>({ op: 'report' }, 10_000)))
    const histogram = new Histogram()
    for (const r of reports) histogram.merge(r.histogram)
    const sum = (key: 'clients' | 'open' | 'received' | 'duplicates' | 'stray' | 'closedByServer' | 'otherFrames'): number =>
      reports.reduce((s, r) => s + r[key], 0)
    const withClients = reports.filter((r) => r.clients > 0)
    return {
      clients: sum('clients'),
      open: sum('open'),
      received: sum('received'),
      duplicates: sum('duplicates'),
      stray: sum('stray'),
      closedByServer: sum('closedByServer'),
      otherFrames: sum('otherFrames'),
      perClientMin: withClients.length ? Math.min(...withClients.map((r) => r.perClientMin)) : 0,
      perClientMax: withClients.length ? Math.max(...withClients.map((r) => r.perClientMax)) : 0,
      perUser: reports.flatMap((r) => r.perUser),
      histogram,
    }
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        await w.request({ op: 'exit' }, 15_000).catch(() => undefined)
        await stopProcess(w.proc)
      }),
    )
  }
}
