/**
 * One target's turn in a repetition: start its server, run every workload it does on it in a fixed
 * order (idle, broadcast, targeted, invocations, churn), log each phase's counts beside its
 * figures, and stop it, whatever happened.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { BenchOptions, Log } from './bench.js'
import { churnPhase } from './churn.js'
import type { ChurnResult } from './churn.js'
import { NoCohort } from './cohort.js'
import { invocationPhase } from './invocations.js'
import type { InvocationResult } from './invocations.js'
import type { LoadPool } from './load-pool.js'
import type { Counts } from './measure.js'
import { OfficialCohort } from './official-cohort.js'
import type { Cohort } from './official-cohort.js'
import { sleep } from './procs.js'
import { SocketIoCohort } from './socketio-cohort.js'
import { CONNECTIONS_PER_USER, connectUsers, targetedPhase } from './targeted.js'
import type { TargetedResult } from './targeted.js'
import { does } from './targets.js'
import type { RunningTarget, Target } from './targets.js'
import { broadcastPhase, idlePhase } from './workloads.js'
import type { BroadcastResult, IdleResult } from './workloads.js'

export interface TargetRun {
  readonly target: string
  readonly repetition: number
  readonly idle: IdleResult[]
  readonly broadcast: Array<BroadcastResult & { readonly connections: number }>
  readonly targeted: TargetedResult[]
  readonly invocations: InvocationResult[]
  readonly churn: ChurnResult[]
  readonly serverRssAtEnd: number
}

export interface TargetRunContext {
  readonly natsUrl: string
  readonly core: number | undefined
  readonly loadCore: number | undefined
  readonly pool: LoadPool
  readonly nc: NatsConnection
  readonly natsPid: number
  readonly idleCounts: readonly number[]
  readonly broadcastCounts: readonly number[]
  readonly options: BenchOptions
  readonly nextPhase: () => number
  readonly log: Log
}

export async function runTarget(target: Target, context: TargetRunContext): Promise<Omit<TargetRun, 'repetition'>> {
  const { pool, options, log } = context
  const server: RunningTarget = await target.start({ natsUrl: context.natsUrl, core: context.core, loadCore: context.loadCore })
  const measured = { target: server, pool, nc: context.nc, loadPids: [context.natsPid], serverCore: context.core }
  let cohort: Cohort | undefined
  const run: Omit<TargetRun, 'repetition'> = { target: target.id, idle: [], broadcast: [], targeted: [], invocations: [], churn: [], serverRssAtEnd: Number.NaN }
  try {
    await sleep(options.settleMs)
    const baseline = await server.memory()
    for (const n of does(target, 'idle') ? context.idleCounts : []) {
      const r = await idlePhase(server, pool, n, baseline, options.settleMs)
      log(
        `  idle ${n}: ${r.connections} open (server counts ${r.serverCounted}, ${r.failed} failed) in ${r.connectMs} ms; ` +
          `RSS ${kb(r.rssPerConnection)} KB/conn, heap ${r.heapPerConnection === undefined ? 'n/a' : kb(r.heapPerConnection)} KB/conn`,
      )
      run.idle.push(r)
    }
    for (const n of does(target, 'broadcast') ? context.broadcastCounts : []) {
      cohort ??= await cohortFor(server, options.cohortSize)
      // A target without an official cohort (nats-ws) gets raw clients in its place: every target serves N + cohort connections.
      const raw = n + options.cohortSize - cohort.size
      await pool.ensure(server.wsUrl, raw, server.client)
      const total = raw + cohort.size
      const phaseContext = { ...measured, cohort }
      const rate = Math.max(1, Math.round(options.fixedDeliveriesPerSecond / total))
      const window = Math.max(2, Math.round(options.maxInFlightDeliveries / total))
      // Not counted: warms the JIT and the sockets so the first measured phase is not the slowest.
      await broadcastPhase(phaseContext, { phase: context.nextPhase(), mode: 'fixed', rate, durationMs: options.warmupMs, drainMs: options.drainMs })
      for (const spec of [
        { mode: 'fixed' as const, rate },
        { mode: 'max' as const, window },
      ]) {
        const r = await broadcastPhase(phaseContext, { phase: context.nextPhase(), ...spec, durationMs: options.phaseMs, drainMs: options.drainMs })
        log(
          `  broadcast ${spec.mode} ${raw}+${cohort.size}: ${r.published} msgs, ${r.received}/${r.expected} received` +
            `${r.complete ? '' : ' INCOMPLETE'}${r.duplicates ? `, ${r.duplicates} duplicates` : ''}; ` +
            `${Math.round(r.deliveriesPerSecond)} deliveries/s, p50 ${r.latencyMs.p50.toFixed(1)} / p99 ${r.latencyMs.p99.toFixed(1)} ms, ` +
            `server ${r.serverCpuPercent.toFixed(0)}% CPU${r.serverCoreBusyPercent === undefined ? '' : ` (its core ${r.serverCoreBusyPercent.toFixed(0)}% busy)`}, ` +
            `${r.serverMicrosPerDelivery.toFixed(2)} µs/delivery`,
        )
        run.broadcast.push({ ...r, connections: total })
      }
    }
    await cohort?.stop()
    cohort = undefined
    if (does(target, 'targeted') && options.targetedUsers > 0) {
      const users = options.targetedUsers
      const opened = await connectUsers(server, pool, users)
      log(`  targeted: ${opened.open} connections for ${users} users (${opened.failed} failed) in ${opened.ms} ms`)
      const targetedContext = { ...measured, users }
      await targetedPhase(targetedContext, { phase: context.nextPhase(), mode: 'fixed', rate: options.targetedRate, durationMs: options.workloadWarmupMs, drainMs: options.drainMs })
      for (const spec of [
        { mode: 'fixed' as const, rate: options.targetedRate },
        { mode: 'max' as const, window: options.targetedWindow },
      ]) {
        const r = await targetedPhase(targetedContext, { phase: context.nextPhase(), ...spec, durationMs: options.workloadMs, drainMs: options.drainMs })
        log(
          `  targeted ${spec.mode} ${users}×${CONNECTIONS_PER_USER}: ${counts(r.counts, r.complete)}; ${Math.round(r.messagesPerSecond)} msgs/s, ` +
            `p50 ${r.latencyMs.p50.toFixed(2)} / p99 ${r.latencyMs.p99.toFixed(2)} ms, server ${r.serverCpuPercent.toFixed(0)}% CPU, ${r.serverMicrosPerMessage.toFixed(2)} µs/msg`,
        )
        run.targeted.push(r)
      }
    }
    if (does(target, 'invocations') && options.invocationClients > 0) {
      await pool.ensure(server.wsUrl, 0, server.client)
      const opened = await pool.ensure(server.wsUrl, options.invocationClients, server.client)
      const invocationContext = { ...measured, clients: opened.open }
      await invocationPhase(invocationContext, { phase: context.nextPhase(), durationMs: options.workloadWarmupMs, drainMs: options.drainMs })
      const r = await invocationPhase(invocationContext, { phase: context.nextPhase(), durationMs: options.workloadMs, drainMs: options.drainMs })
      log(
        `  invocations ${opened.open} clients: ${counts(r.counts, r.complete)}, ${r.errors} errors, service got ${r.atService.unique}; ` +
          `${Math.round(r.completionsPerSecond)} completions/s, p50 ${r.latencyMs.p50.toFixed(1)} / p99 ${r.latencyMs.p99.toFixed(1)} ms, ${r.serverMicrosPerInvocation.toFixed(2)} µs/call`,
      )
      run.invocations.push(r)
    }
    if (does(target, 'churn') && options.churnLanes > 0) {
      const spec = { durationMs: options.workloadMs, lanes: options.churnLanes, users: options.churnUsers }
      await churnPhase(measured, { ...spec, durationMs: options.workloadWarmupMs })
      const r = await churnPhase(measured, spec)
      log(
        `  churn ${r.negotiate ? 'negotiate + ' : ''}JWT: ${counts(r.counts, r.complete)}; ${Math.round(r.connectsPerSecond)} connects/s, ` +
          `p50 ${r.latencyMs.p50.toFixed(1)} / p99 ${r.latencyMs.p99.toFixed(1)} ms, ${r.serverMicrosPerConnect.toFixed(0)} µs/connect${Object.keys(r.errors).length ? `, errors ${JSON.stringify(r.errors)}` : ''}`,
      )
      run.churn.push(r)
    }
    return { ...run, serverRssAtEnd: (await server.memory()).rss }
  } finally {
    await cohort?.stop()
    await pool.ensure(server.wsUrl, 0, server.client).catch(() => undefined)
    await server.stop()
  }
}

function cohortFor(server: RunningTarget, size: number): Promise<Cohort> {
  if (server.client === 'socketio') return SocketIoCohort.connect(server.httpUrl, size)
  // nats.ws needs a global WebSocket, which Node 20 has only behind a flag: nats-ws is checked by its raw clients alone.
  if (server.client === 'natsws') return Promise.resolve(new NoCohort())
  return OfficialCohort.connect(server.wsUrl, size)
}

function counts(c: Counts, complete: boolean): string {
  return `${c.sent} sent, ${c.received}/${c.expected} received${complete ? '' : ' INCOMPLETE'}, ${c.duplicates} duplicates, ${c.missing} missing, ${c.extra} extra`
}

function kb(bytes: number): string {
  return (bytes / 1024).toFixed(1)
}
