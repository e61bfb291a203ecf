/**
 * Connection churn with JWT: closed loops on the load side connect (negotiate with the bearer
 * token where the target has one, WebSocket upgrade with `access_token`, handshake), then close,
 * for a bounded time (worker-churn.ts). Connects/s, connect latency, server CPU per connect; every
 * attempt is counted, and the server must hold no connection afterwards.
 */
import type { LoadPool } from './load-pool.js'
import { latencyMs, startCpu } from './measure.js'
import type { Counts } from './measure.js'
import { sleep } from './procs.js'
import type { RunningTarget } from './targets.js'
import { mintTokens } from './tokens.js'

export interface ChurnSpec {
  readonly durationMs: number
  /** Closed loops per load worker. */
  readonly lanes: number
  /** Distinct users whose tokens the loops take turns with. */
  readonly users: number
}

export interface ChurnResult {
  readonly spec: ChurnSpec
  readonly negotiate: boolean
  /** sent = attempts, received = connects, missing = failed attempts, extra = connections left open afterwards. */
  readonly counts: Counts
  readonly errors: Record<string, number>
  readonly leftOpen: number
  readonly complete: boolean
  readonly seconds: number
  readonly connectsPerSecond: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly serverCpuSeconds: number
  readonly serverCpuPercent: number
  readonly serverCoreBusyPercent?: number
  readonly serverMicrosPerConnect: number
  readonly loadCpuSeconds: number
}

export interface ChurnContext {
  readonly target: RunningTarget
  readonly pool: LoadPool
  readonly loadPids: readonly number[]
  readonly serverCore?: number
}

export async function churnPhase(context: ChurnContext, spec: ChurnSpec): Promise<ChurnResult> {
  const { target, pool } = context
  await pool.ensure(target.wsUrl, 0, target.client)
  const tokens = await mintTokens(Array.from({ length: spec.users }, (_, u) => u))
  const stopCpu = startCpu(target.pid, pool, [...context.loadPids, ...(target.loadPids ?? [])], context.serverCore)
  const churn = await pool.churn({ client: target.client, wsUrl: target.wsUrl, negotiateUrl: target.negotiateUrl, tokens, lanes: spec.lanes, durationMs: spec.durationMs })
  const cpu = stopCpu()
  // Closed means gone: the server must have let every connection go (bounded wait for its bookkeeping).
  let leftOpen = await target.connections()
  for (let i = 0; i < 40 && leftOpen !== 0; i++) {
    await sleep(50)
    leftOpen = await target.connections()
  }
  const counts: Counts = { sent: churn.attempts, expected: churn.attempts, received: churn.connects, duplicates: 0, missing: churn.failed, extra: leftOpen }
  return {
    spec,
    negotiate: target.negotiateUrl !== undefined,
    counts,
    errors: churn.errors,
    leftOpen,
    complete: churn.failed === 0 && leftOpen === 0 && churn.connects === churn.attempts,
    seconds: churn.seconds,
    connectsPerSecond: churn.connects / churn.seconds,
    latencyMs: latencyMs(churn.histogram),
    serverCpuSeconds: cpu.serverCpuSeconds,
    serverCpuPercent: (cpu.serverCpuSeconds / churn.seconds) * 100,
    serverCoreBusyPercent: cpu.serverCoreBusyPercent,
    serverMicrosPerConnect: churn.connects > 0 ? (cpu.serverCpuSeconds * 1e6) / churn.connects : Number.NaN,
    loadCpuSeconds: cpu.loadCpuSeconds,
  }
}
