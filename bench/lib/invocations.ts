/**
 * Client invocations: every open raw client calls `publish("bench.p<phase>", tag)` in a closed loop
 * (worker-invoke.ts), one call in flight each, for a bounded time; the orchestrator plays the
 * service, subscribed to `im.default.receive.bench.p<phase>` on the run's NATS, and counts each
 * call's unique tag. A phase is complete when every call completed without error and every
 * completed call reached the service exactly once.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { LoadPool } from './load-pool.js'
import { latencyMs, startCpu } from './measure.js'
import type { Counts } from './measure.js'
import { sleep } from './procs.js'
import { RECEIVE_PREFIX } from './protocol.js'
import type { RunningTarget } from './targets.js'

export interface InvocationSpec {
  readonly phase: number
  readonly durationMs: number
  readonly drainMs: number
}

export interface InvocationResult {
  readonly spec: InvocationSpec
  readonly clients: number
  /** sent = calls, expected = calls, received = completions; extra = unexpected completions. */
  readonly counts: Counts
  readonly errors: number
  /** What the service got on NATS: unique calls, and calls seen more than once. */
  readonly atService: { readonly unique: number; readonly duplicates: number; readonly missing: number }
  readonly complete: boolean
  readonly seconds: number
  readonly completionsPerSecond: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly serverCpuSeconds: number
  readonly serverCpuPercent: number
  readonly serverCoreBusyPercent?: number
  readonly serverMicrosPerInvocation: number
  readonly loadCpuSeconds: number
}

export interface InvocationContext {
  readonly target: RunningTarget
  readonly pool: LoadPool
  readonly nc: NatsConnection
  readonly loadPids: readonly number[]
  readonly serverCore?: number
  readonly clients: number
}

const TAG = /"(i\d+_\d+_\d+)"/

export async function invocationPhase(context: InvocationContext, spec: InvocationSpec): Promise<InvocationResult> {
  const { target, pool, nc } = context
  const seen = new Set<string>()
  let arrived = 0
  const subscription = nc.subscribe(`${RECEIVE_PREFIX}bench.p${spec.phase}`, {
    callback: (error, msg) => {
      if (error) return
      arrived += 1
      const tag = TAG.exec(msg.string())?.[1]
      if (tag) seen.add(tag)
    },
  })
  await nc.flush() // the subscription is registered before the first call
  try {
    const stopCpu = startCpu(target.pid, pool, [...context.loadPids, ...(target.loadPids ?? [])], context.serverCore)
    const calls = await pool.invoke(spec.phase, spec.durationMs, spec.drainMs)
    const cpu = stopCpu()
    // The service's copy may trail the completion by a moment (IMService completes after its flush; the references before).
    const deadline = performance.now() + 5000
    while (seen.size < calls.completed - calls.errors && performance.now() < deadline) await sleep(10)
    await nc.flush()
    const succeeded = calls.completed - calls.errors
    const atService = { unique: seen.size, duplicates: arrived - seen.size, missing: Math.max(0, succeeded - seen.size) }
    const counts: Counts = {
      sent: calls.sent,
      expected: calls.sent,
      received: calls.completed,
      duplicates: atService.duplicates,
      missing: calls.missing + atService.missing,
      extra: calls.unexpected,
    }
    return {
      spec,
      clients: context.clients,
      counts,
      errors: calls.errors,
      atService,
      complete: calls.missing === 0 && calls.errors === 0 && calls.unexpected === 0 && atService.missing === 0 && atService.duplicates === 0 && seen.size === calls.completed,
      seconds: calls.seconds,
      completionsPerSecond: calls.completed / calls.seconds,
      latencyMs: latencyMs(calls.histogram),
      serverCpuSeconds: cpu.serverCpuSeconds,
      serverCpuPercent: (cpu.serverCpuSeconds / calls.seconds) * 100,
      serverCoreBusyPercent: cpu.serverCoreBusyPercent,
      serverMicrosPerInvocation: calls.completed > 0 ? (cpu.serverCpuSeconds * 1e6) / calls.completed : Number.NaN,
      loadCpuSeconds: cpu.loadCpuSeconds,
    }
  } finally {
    subscription.unsubscribe()
  }
}
