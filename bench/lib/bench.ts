/**
 * One bench run: its own nats-server, the load workers and the official cohort on the load core,
 * each target's server in turn on the server core, the same workloads for every target, repeated
 * in alternating order (ABBA...) so a drift of the machine's speed hits both sides alike.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { cpus, loadavg, release, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { findNatsServer, freePort } from '../../test/support/nats-server.js'
import { LoadPool } from './load-pool.js'
import { coreCount, placement, spawnPinned, stopProcess, waitForPort, TASKSET } from './procs.js'
import { runTarget } from './run-target.js'
import type { TargetRun } from './run-target.js'
import type { Target } from './targets.js'

export type { TargetRun } from './run-target.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Connections a server may hold: its open-file limit minus what a Node process keeps open besides sockets. */
const FD_MARGIN = 150

export interface BenchOptions {
  readonly mode: 'quick' | 'full'
  readonly idleCounts: readonly number[]
  readonly broadcastCounts: readonly number[]
  readonly repetitions: number
  readonly phaseMs: number
  readonly warmupMs: number
  readonly settleMs: number
  readonly drainMs: number
  /** Deliveries per second of the fixed-rate phase (the rate is this ÷ connections). */
  readonly fixedDeliveriesPerSecond: number
  /** In-flight deliveries allowed in the max phase (the window in messages is this ÷ connections). */
  readonly maxInFlightDeliveries: number
  readonly workers: number
  readonly cohortSize: number
  /** Measured phase length of the targeted, invocation and churn workloads, and their unmeasured warm-up. */
  readonly workloadMs: number
  readonly workloadWarmupMs: number
  /** Users of the targeted workload, 2 connections each. */
  readonly targetedUsers: number
  /** Messages per second of the fixed-rate targeted phase. */
  readonly targetedRate: number
  /** Deliveries in flight allowed in the max-rate targeted phase. */
  readonly targetedWindow: number
  /** Connections that call publish(...) in the invocation workload. */
  readonly invocationClients: number
  /** Connect-close loops per load worker in the churn workload, and the users whose tokens they use. */
  readonly churnLanes: number
  readonly churnUsers: number
  readonly targets: readonly Target[]
}

export function defaultOptions(mode: 'quick' | 'full', targets: readonly Target[]): BenchOptions {
  return mode === 'quick'
    ? {
        mode,
        idleCounts: [1000, 5000],
        broadcastCounts: [1000],
        repetitions: 1,
        phaseMs: 3000,
        warmupMs: 1000,
        settleMs: 1500,
        drainMs: 10_000,
        fixedDeliveriesPerSecond: 20_000,
        maxInFlightDeliveries: 10_000,
        workers: 2,
        cohortSize: 5,
        workloadMs: 1500,
        workloadWarmupMs: 500,
        targetedUsers: 1000,
        targetedRate: 5000,
        targetedWindow: 4000,
        invocationClients: 1000,
        churnLanes: 25,
        churnUsers: 100,
        targets,
      }
    : {
        mode,
        idleCounts: [1000, 5000, 10_000],
        broadcastCounts: [1000, 5000, 10_000],
        repetitions: 3,
        phaseMs: 5000,
        warmupMs: 1500,
        settleMs: 2000,
        drainMs: 15_000,
        fixedDeliveriesPerSecond: 20_000,
        maxInFlightDeliveries: 10_000,
        workers: 2,
        cohortSize: 5,
        workloadMs: 4000,
        workloadWarmupMs: 1000,
        // 10k connections, the size the targets name; 2 connections per user.
        targetedUsers: 5000,
        targetedRate: 5000,
        targetedWindow: 4000,
        invocationClients: 1000,
        churnLanes: 25,
        churnUsers: 1000,
        targets,
      }
}

export interface Machine {
  readonly cpuModel: string
  readonly cores: number
  readonly kernel: string
  readonly node: string
  readonly commit: string
  /** Uncommitted changes in the tree the server ran from (other sessions' work counts too). */
  readonly dirty: boolean
  readonly openFiles: { readonly soft: number; readonly hard: number }
  readonly pinned: boolean
  readonly placement: string
  readonly loadAverage: { readonly start: readonly number[]; end?: readonly number[] }
  readonly versions: Record<string, string>
}

export interface RunResult {
  readonly startedAt: string
  readonly mode: 'quick' | 'full'
  readonly options: Omit<BenchOptions, 'targets'> & { readonly targets: string[] }
  readonly machine: Machine
  /** What was not measured and why, stated rather than skipped silently. */
  readonly notes: string[]
  /** A fixed CPU loop timed at start and end on the load core: how far the machine's speed drifted. */
  readonly calibration: { readonly startMs: number; endMs?: number; driftPercent?: number }
  readonly runs: TargetRun[]
  seconds?: number
}

export type Log = (line: string) => void

export async function runBench(options: BenchOptions, log: Log): Promise<RunResult> {
  const cores = placement()
  const started = Date.now()
  const openFiles = readOpenFileLimits()
  const maxConnections = openFiles.hard - FD_MARGIN
  const notes: string[] = []
  const fits = (n: number, what: string): boolean => {
    if (n + options.cohortSize <= maxConnections) return true
    notes.push(`${what} at N=${n} not measured: a server process may open ${openFiles.hard} files (hard limit) and holds one per connection.`)
    return false
  }
  const idleCounts = options.idleCounts.filter((n) => fits(n, 'idle connections'))
  const broadcastCounts = options.broadcastCounts.filter((n) => fits(n, 'broadcast'))
  // The targeted workload is stated for 10k users (20k connections); one server process may not hold that here, so the run takes what fits.
  const targetedUsers = Math.min(options.targetedUsers, Math.floor((maxConnections - options.cohortSize) / 2))
  if (targetedUsers < options.targetedUsers) notes.push(`Targeted delivery with ${targetedUsers} users instead of ${options.targetedUsers}: the open-file limit caps a server at ${maxConnections} connections.`)
  notes.push(
    `Largest possible point on this machine: about ${maxConnections} connections per server process (open files: soft ${openFiles.soft}, hard ${openFiles.hard}); the 50k point needs a machine with a higher limit.`,
  )
  if (!TASKSET || coreCount() < 2) notes.push('Not pinned: taskset or a second core is missing, so server and load share CPUs.')
  // A reference this machine cannot run is skipped, and the output says why; IMService never is.
  const targets = options.targets.filter((target) => {
    const why = target.reference ? target.unavailable?.() : undefined
    if (why === undefined) return true
    notes.push(`Reference ${target.id} skipped: ${why}.`)
    log(`skipping ${target.id}: ${why}`)
    return false
  })

  const result: RunResult = {
    startedAt: new Date(started).toISOString(),
    mode: options.mode,
    options: { ...options, idleCounts, broadcastCounts, targetedUsers, targets: targets.map((t) => t.id) },
    machine: machine(openFiles, cores),
    notes,
    calibration: { startMs: calibrate() },
    runs: [],
  }

  const natsPort = await freePort()
  // With JetStream, as a production NATS for IMService runs: user online/offline events keep their table there.
  const natsStore = mkdtempSync(join(tmpdir(), 'bench-nats-'))
  const nats = spawnPinned(cores.load, findNatsServer(), ['-a', '127.0.0.1', '-p', String(natsPort), '-js', '-sd', natsStore], { stdio: 'ignore' })
  let pool: LoadPool | undefined
  let nc: NatsConnection | undefined
  try {
    await waitForPort(natsPort, 10_000, () => nats.exitCode === null)
    const natsUrl = `nats://127.0.0.1:${natsPort}`
    nc = await connect({ servers: natsUrl, name: 'bench-publisher' })
    pool = await LoadPool.start(options.workers, cores.load)
    let phase = 0
    for (let repetition = 1; repetition <= options.repetitions; repetition++) {
      // ABBA: alternate which target goes first, so neither always runs on the warmer (or busier) machine.
      const order = repetition % 2 === 1 ? targets : [...targets].reverse()
      for (const target of order) {
        log(`[${options.mode}] repetition ${repetition}/${options.repetitions}: ${target.id}`)
        const run = await runTarget(target, {
          natsUrl,
          core: cores.server,
          loadCore: cores.load,
          pool,
          nc,
          natsPid: nats.pid!,
          idleCounts,
          broadcastCounts,
          options: { ...options, targetedUsers },
          nextPhase: () => ++phase,
          log,
        })
        result.runs.push({ ...run, repetition })
      }
    }
  } finally {
    await pool?.stop().catch(() => undefined)
    await nc?.close().catch(() => undefined)
    await stopProcess(nats)
    rmSync(natsStore, { recursive: true, force: true })
  }
  const endMs = calibrate()
  result.calibration.endMs = endMs
  result.calibration.driftPercent = ((endMs - result.calibration.startMs) / result.calibration.startMs) * 100
  if (Math.abs(result.calibration.driftPercent) > 15) {
    notes.push(
      `The machine's speed drifted ${result.calibration.driftPercent.toFixed(0)}% between start and end (calibration loop ${result.calibration.startMs.toFixed(0)} → ${endMs.toFixed(0)} ms): treat absolute figures as noisy; ratios of interleaved phases hold better.`,
    )
  }
  result.machine.loadAverage.end = loadavg()
  result.seconds = (Date.now() - started) / 1000
  return result
}

function readOpenFileLimits(): { soft: number; hard: number } {
  const read = (flag: string): number => {
    try {
      const value = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim()
      return value === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(value)
    } catch {
      return Number.NaN
    }
  }
  return { soft: read('-Sn'), hard: read('-Hn') }
}

function machine(openFiles: { soft: number; hard: number }, cores: { server?: number; load?: number }): Machine {
  const git = (...args: string[]): string => {
    try {
      return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  }
  const version = (name: string): string => {
    try {
      return (JSON.parse(readFileSync(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version
    } catch {
      return 'unknown'
    }
  }
  let natsVersion = 'unknown'
  try {
    natsVersion = execFileSync(findNatsServer(), ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    // reported as unknown
  }
  return {
    cpuModel: cpus()[0]?.model ?? 'unknown',
    cores: coreCount(),
    kernel: release(),
    node: process.version,
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    openFiles,
    pinned: cores.server !== undefined,
    placement: cores.server !== undefined ? `server on CPU ${cores.server}; load workers, official cohorts, publisher, nats-server and redis-server on CPU ${cores.load}` : 'not pinned',
    loadAverage: { start: loadavg() },
    versions: {
      ws: version('ws'),
      '@microsoft/signalr': version('@microsoft/signalr'),
      '@nats-io/transport-node': version('@nats-io/transport-node'),
      'nats-server': natsVersion,
      'socket.io': version('socket.io'),
      'socket.io-client': version('socket.io-client'),
      '@socket.io/redis-adapter': version('@socket.io/redis-adapter'),
      '@socket.io/redis-emitter': version('@socket.io/redis-emitter'),
      redis: version('redis'),
      'redis-server': redisVersion(),
    },
  }
}

/**
 * A fixed single-thread workload (stringify + parse of a ~100-byte message), in ms: the fastest of 7
 * rounds after 2 unmeasured ones (the first rounds run before the JIT has optimized the loop, which
 * would read as a drift between start and end; the fastest round is the least disturbed by others).
 */
function calibrate(): number {
  const message = { type: 1, target: 'tick', arguments: ['0000000000000000', 12345, 7, 'x'.repeat(24)] }
  const times: number[] = []
  for (let round = 0; round < 9; round++) {
    const t0 = performance.now()
    let sink = 0
    for (let i = 0; i < 50_000; i++) sink += (JSON.parse(JSON.stringify(message)) as { type: number }).type
    if (round >= 2) times.push(performance.now() - t0 + (sink < 0 ? 1 : 0))
  }
  return Math.min(...times)
}

function redisVersion(): string {
  try {
    return execFileSync(process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server', ['--version'], { encoding: 'utf8' }).trim().split(' ').find((w) => w.startsWith('v='))?.slice(2) ?? 'unknown'
  } catch {
    return 'not installed'
  }
}
