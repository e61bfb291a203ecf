/**
 * The measured phases. Each is bounded (a duration, then a drain with its own bound) and reports
 * counts first: what was published, what every client received, duplicates and strays, so a
 * figure is never shown without the proof that the work it counts was done.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { LoadPool } from './load-pool.js'
import type { Cohort, CohortReport } from './official-cohort.js'
import { pace } from './pacing.js'
import type { PhaseSpec } from './pacing.js'
import { BROADCAST_SUBJECT, tickPayload } from './protocol.js'
import { coreTicks, cpuSeconds, sleep } from './procs.js'
import type { Memory, Publisher, RunningTarget } from './targets.js'

export interface IdleResult {
  readonly connections: number
  /** Connections the server counted on /healthz. */
  readonly serverCounted: number
  readonly failed: number
  readonly errors: Record<string, number>
  readonly connectMs: number
  readonly baseline: Memory
  readonly memory: Memory
  readonly rssPerConnection: number
  readonly heapPerConnection?: number
}

/** Opens (or closes down to) `count` raw connections, lets the server settle, reads its memory after GCs. */
export async function idlePhase(target: RunningTarget, pool: LoadPool, count: number, baseline: Memory, settleMs: number): Promise<IdleResult> {
  const opened = await pool.ensure(target.wsUrl, count, target.client)
  await sleep(settleMs)
  const serverCounted = await target.connections()
  const memory = await target.memory()
  const open = opened.open
  return {
    connections: open,
    serverCounted,
    failed: opened.failed,
    errors: opened.errors,
    connectMs: opened.ms,
    baseline,
    memory,
    rssPerConnection: open > 0 ? (memory.rss - baseline.rss) / open : Number.NaN,
    heapPerConnection:
      memory.heapUsed !== undefined && baseline.heapUsed !== undefined && open > 0 ? (memory.heapUsed - baseline.heapUsed) / open : undefined,
  }
}

/** `window`: messages allowed in flight, i.e. published but not yet at every client (max mode). */
export type BroadcastSpec = PhaseSpec

export interface BroadcastResult {
  readonly spec: BroadcastSpec
  readonly rawClients: number
  readonly cohortClients: number
  readonly published: number
  /** Unique ticks at the raw clients. */
  readonly received: number
  /** published × raw clients: what the raw clients were owed. */
  readonly expected: number
  readonly duplicates: number
  readonly stray: number
  readonly closedByServer: number
  /** Every raw client got every tick, exactly once, and so did every official client. */
  readonly complete: boolean
  readonly perClientMin: number
  readonly perClientMax: number
  readonly cohort: CohortReport
  /** From the first publish until every client had the last tick (or the drain bound). */
  readonly seconds: number
  readonly drained: boolean
  readonly deliveriesPerSecond: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly serverCpuSeconds: number
  readonly serverCpuPercent: number
  /** How busy the server's core was with every process on it, ours or not (pinned runs only). */
  readonly serverCoreBusyPercent?: number
  /** Server CPU per delivery (raw and official), µs: the figure that does not depend on which side saturated. */
  readonly serverMicrosPerDelivery: number
  readonly loadCpuSeconds: number
}

export interface BroadcastContext {
  readonly target: RunningTarget
  readonly pool: LoadPool
  readonly cohort: Cohort
  /** Where a service publishes, unless the target brings its own publisher (the Socket.IO emitter). */
  readonly nc: NatsConnection
  /** Pids of other load-side processes (nats-server) whose CPU counts as load. */
  readonly loadPids: readonly number[]
  /** The core the server is pinned to, if it is: its total busy time shows contention from other work. */
  readonly serverCore?: number
}

export async function broadcastPhase(context: BroadcastContext, spec: BroadcastSpec): Promise<BroadcastResult> {
  const { target, pool, cohort, nc } = context
  const publisher: Publisher = target.publisher ?? {
    publish: (seq, phase) => nc.publish(BROADCAST_SUBJECT, tickPayload(seq, phase)),
    flush: () => nc.flush(),
  }
  await pool.startPhase(spec.phase)
  cohort.startPhase(spec.phase)
  const completed = (): number => Math.min(pool.minSeq(), cohort.minSeq())

  const loadPids = [...context.loadPids, ...(target.loadPids ?? [])]
  const loadCpu = (): number => pool.cpuSeconds() + loadPids.reduce((s, pid) => s + cpuSeconds(pid), 0) + selfCpu()
  const serverCpu0 = cpuSeconds(target.pid)
  const loadCpu0 = loadCpu()
  const core0 = context.serverCore === undefined ? undefined : coreTicks(context.serverCore)
  const t0 = performance.now()
  const published = await pace({ ...spec, window: spec.window ?? 16 }, (seq) => publisher.publish(seq, spec.phase), (n) => n - 1 - completed())
  await publisher.flush()

  const drainDeadline = performance.now() + spec.drainMs
  let drained = false
  while (performance.now() < drainDeadline) {
    if (completed() >= published - 1) {
      drained = true
      break
    }
    await sleep(5)
  }
  const seconds = (performance.now() - t0) / 1000
  const serverCpuSeconds = cpuSeconds(target.pid) - serverCpu0
  const loadCpuSeconds = loadCpu() - loadCpu0
  const core1 = context.serverCore === undefined ? undefined : coreTicks(context.serverCore)
  const serverCoreBusyPercent = core0 && core1 ? ((core1.busy - core0.busy) / (core1.total - core0.total)) * 100 : undefined

  const raw = await pool.report()
  const cohortReport = cohort.report()
  const cohortReceived = cohortReport.perClient.reduce((s, n) => s + n, 0)
  const expected = published * raw.clients
  const complete =
    raw.received === expected &&
    raw.duplicates === 0 &&
    raw.perClientMin === published &&
    cohortReport.duplicates === 0 &&
    cohortReport.perClient.every((n) => n === published)
  const deliveries = raw.received + cohortReceived
  const ms = (us: number): number => us / 1000
  return {
    spec,
    rawClients: raw.clients,
    cohortClients: cohortReport.clients,
    published,
    received: raw.received,
    expected,
    duplicates: raw.duplicates + cohortReport.duplicates,
    stray: raw.stray,
    closedByServer: raw.closedByServer,
    complete,
    perClientMin: raw.perClientMin,
    perClientMax: raw.perClientMax,
    cohort: cohortReport,
    seconds,
    drained,
    deliveriesPerSecond: deliveries / seconds,
    latencyMs: {
      p50: ms(raw.histogram.quantile(0.5)),
      p90: ms(raw.histogram.quantile(0.9)),
      p99: ms(raw.histogram.quantile(0.99)),
      max: ms(raw.histogram.max),
    },
    serverCpuSeconds,
    serverCpuPercent: (serverCpuSeconds / seconds) * 100,
    serverCoreBusyPercent,
    serverMicrosPerDelivery: deliveries > 0 ? (serverCpuSeconds * 1e6) / deliveries : Number.NaN,
    loadCpuSeconds,
  }
}

function selfCpu(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}
