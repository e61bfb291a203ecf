/**
 * Targeted delivery: U users, each with 2 connections (raw clients holding that user's token), a
 * service sending ticks to one random user at a time on `im.default.send.user` (or the target's
 * own way, Socket.IO's `emitter.to('user:<id>')`). Counted per user: each of the user's
 * connections must receive exactly the ticks sent to that user, once, and nothing else, so a
 * message delivered to the wrong user shows up as `extra` and one lost as `missing`.
 * Fixed rate (messages/s) or max rate with a bounded number of deliveries in flight.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import type { LoadPool } from './load-pool.js'
import { pace } from './pacing.js'
import type { PhaseSpec } from './pacing.js'
import { latencyMs, startCpu } from './measure.js'
import type { Counts } from './measure.js'
import { sleep } from './procs.js'
import { USER_SUBJECT, userTickPayload } from './protocol.js'
import type { RunningTarget } from './targets.js'
import { mintTokens, userId } from './tokens.js'

export const CONNECTIONS_PER_USER = 2

/** `window`: deliveries allowed in flight (max mode). */
export type TargetedSpec = PhaseSpec

export interface TargetedResult {
  readonly spec: TargetedSpec
  readonly users: number
  readonly connections: number
  readonly counts: Counts
  readonly stray: number
  readonly complete: boolean
  readonly drained: boolean
  readonly seconds: number
  readonly messagesPerSecond: number
  readonly deliveriesPerSecond: number
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  readonly serverCpuSeconds: number
  readonly serverCpuPercent: number
  readonly serverCoreBusyPercent?: number
  readonly serverMicrosPerMessage: number
  readonly loadCpuSeconds: number
}

export interface TargetedContext {
  readonly target: RunningTarget
  readonly pool: LoadPool
  readonly nc: NatsConnection
  readonly loadPids: readonly number[]
  readonly serverCore?: number
  readonly users: number
}

/** Closes what is open and connects `users` × 2 raw clients with their users' tokens. */
export async function connectUsers(target: RunningTarget, pool: LoadPool, users: number): Promise<{ open: number; failed: number; ms: number; errors: Record<string, number> }> {
  await pool.ensure(target.wsUrl, 0, target.client)
  const indexes = Array.from({ length: users }, (_, u) => u)
  const tokens = await mintTokens(indexes)
  const connections = indexes.flatMap((u) => Array.from({ length: CONNECTIONS_PER_USER }, () => ({ user: u, token: tokens[u]! })))
  return pool.connectUsers(target.wsUrl, target.client, connections)
}

export async function targetedPhase(context: TargetedContext, spec: TargetedSpec): Promise<TargetedResult> {
  const { target, pool, nc, users } = context
  const publishToUser =
    target.publisher?.publishToUser ?? ((user: string, seq: number, phase: number) => nc.publish(USER_SUBJECT, userTickPayload(user, seq, phase)))
  const flush = target.publisher?.flush ?? (() => nc.flush())
  const sentTo = new Uint32Array(users)
  const random = xorshift(spec.mode === 'fixed' ? 1 : 2)
  await pool.startPhase(spec.phase)
  const stopCpu = startCpu(target.pid, pool, [...context.loadPids, ...(target.loadPids ?? [])], context.serverCore)
  const t0 = performance.now()
  const publish = (seq: number): void => {
    const user = Math.floor(random() * users)
    sentTo[user]! += 1
    publishToUser(userId(user), seq, spec.phase)
  }
  const published = await pace({ ...spec, window: spec.window ?? 1000 }, publish, (n) => n * CONNECTIONS_PER_USER - pool.received())
  await flush()
  const owed = published * CONNECTIONS_PER_USER
  const drainDeadline = performance.now() + spec.drainMs
  let drained = false
  while (performance.now() < drainDeadline) {
    if (pool.received() >= owed) {
      drained = true
      break
    }
    await sleep(5)
  }
  const seconds = (performance.now() - t0) / 1000
  const cpu = stopCpu()
  const raw = await pool.report()
  // Per connection: what its user was sent against what it got.
  let missing = 0
  let misdelivered = 0
  const connectionsOf = new Uint32Array(users)
  for (const [user, got] of raw.perUser) {
    connectionsOf[user]! += 1
    const want = sentTo[user] ?? 0
    if (got < want) missing += want - got
    else misdelivered += got - want
  }
  // A connection that never opened owes its user's ticks too.
  for (let u = 0; u < users; u++) missing += Math.max(0, CONNECTIONS_PER_USER - connectionsOf[u]!) * sentTo[u]!
  const counts: Counts = { sent: published, expected: owed, received: raw.received, duplicates: raw.duplicates, missing, extra: misdelivered + raw.stray }
  return {
    spec,
    users,
    connections: raw.clients,
    counts,
    stray: raw.stray,
    complete: missing === 0 && misdelivered === 0 && raw.duplicates === 0 && raw.stray === 0 && raw.received === owed,
    drained,
    seconds,
    messagesPerSecond: published / seconds,
    deliveriesPerSecond: raw.received / seconds,
    latencyMs: latencyMs(raw.histogram),
    serverCpuSeconds: cpu.serverCpuSeconds,
    serverCpuPercent: (cpu.serverCpuSeconds / seconds) * 100,
    serverCoreBusyPercent: cpu.serverCoreBusyPercent,
    serverMicrosPerMessage: published > 0 ? (cpu.serverCpuSeconds * 1e6) / published : Number.NaN,
    loadCpuSeconds: cpu.loadCpuSeconds,
  }
}

/** A small seeded generator: every target gets the same sequence of users for the same mode. */
function xorshift(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1
  return () => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x / 4294967296
  }
}
