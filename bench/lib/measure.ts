/**
 * CPU accounting of one measured phase, the same for every workload: server CPU from /proc (any
 * kind of server), load-side CPU (workers, helper processes such as nats-server or redis-server,
 * and the orchestrator itself), and how busy the server's core was with everything on it.
 */
import type { LoadPool } from './load-pool.js'
import { coreTicks, cpuSeconds } from './procs.js'

export interface CpuFigures {
  readonly serverCpuSeconds: number
  readonly loadCpuSeconds: number
  /** Everything that ran on the server's core, other people's work included (pinned runs only). */
  readonly serverCoreBusyPercent?: number
}

/** Starts the clocks; the returned function reads them. */
export function startCpu(serverPid: number, pool: LoadPool, loadPids: readonly number[], serverCore: number | undefined): () => CpuFigures {
  const loadCpu = (): number => pool.cpuSeconds() + loadPids.reduce((s, pid) => s + cpuSeconds(pid), 0) + selfCpu()
  const server0 = cpuSeconds(serverPid)
  const load0 = loadCpu()
  const core0 = serverCore === undefined ? undefined : coreTicks(serverCore)
  return () => {
    const core1 = serverCore === undefined ? undefined : coreTicks(serverCore)
    return {
      serverCpuSeconds: cpuSeconds(serverPid) - server0,
      loadCpuSeconds: loadCpu() - load0,
      serverCoreBusyPercent: core0 && core1 ? ((core1.busy - core0.busy) / (core1.total - core0.total)) * 100 : undefined,
    }
  }
}

function selfCpu(): number {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1e6
}

/** p50/p90/p99/max in ms of a histogram in µs. */
export function latencyMs(histogram: { quantile(q: number): number; readonly max: number }): { p50: number; p90: number; p99: number; max: number } {
  return {
    p50: histogram.quantile(0.5) / 1000,
    p90: histogram.quantile(0.9) / 1000,
    p99: histogram.quantile(0.99) / 1000,
    max: histogram.max / 1000,
  }
}

/** What was owed and what arrived, the same shape for every workload, shown beside its figures. */
export interface Counts {
  /** Messages, calls or connection attempts the load side started. */
  readonly sent: number
  /** Deliveries, completions or connects owed. */
  readonly expected: number
  readonly received: number
  readonly duplicates: number
  readonly missing: number
  /** Received by someone it was not meant for, from another phase, or unasked for. */
  readonly extra: number
}
