/**
 * Child processes of a bench run: spawned pinned to a core when `taskset` exists, read from /proc
 * for CPU time and RSS (the only source that treats Node, Go and anything else alike), and killed
 * by pid when the run ends, fails or is interrupted, so no run leaves a server behind.
 */
import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { canConnect } from '../../test/support/nats-server.js'

const live = new Set<ChildProcess>()

/** `taskset` when present: without it nothing is pinned and the report says so. */
export const TASKSET: string | undefined = (() => {
  for (const path of ['/usr/bin/taskset', '/bin/taskset', '/usr/local/bin/taskset']) {
    try {
      execFileSync(path, ['--version'], { stdio: 'ignore' })
      return path
    } catch {
      // not here
    }
  }
  return undefined
})()

/** Clock ticks per second for /proc/<pid>/stat; 100 on every Linux we run, but ask. */
const CLK_TCK: number = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
})()

// Read when this module loads, before the orchestrator pins itself to one core: nproc reports the
// affinity mask, so asking later would always answer 1.
const CORES: number = (() => {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || 1
  } catch {
    return 1
  }
})()

/** How many cores the run may use; pinning needs two. */
export function coreCount(): number {
  return CORES
}

/** Cores for server and load, or none when pinning is impossible (one core, no taskset). */
export function placement(): { server?: number; load?: number } {
  return TASKSET && coreCount() >= 2 ? { server: 0, load: 1 } : {}
}

/** Spawns `command args` on `core` (when pinning is possible) and tracks it for cleanup. */
export function spawnPinned(core: number | undefined, command: string, args: string[], options: SpawnOptions): ChildProcess {
  const proc =
    TASKSET && core !== undefined
      ? // taskset execs the command, so the pid we get is the command's own.
        spawn(TASKSET, ['-c', String(core), command, ...args], options)
      : spawn(command, args, options)
  live.add(proc)
  proc.once('exit', () => live.delete(proc))
  return proc
}

/** Pins an already running process (ourselves, the orchestrator) to a core. */
export function pinPid(pid: number, core: number | undefined): void {
  if (!TASKSET || core === undefined) return
  try {
    execFileSync(TASKSET, ['-cp', String(core), String(pid)], { stdio: 'ignore' })
  } catch {
    // Not fatal: the report states the placement it asked for, and /proc shows the CPU used.
  }
}

/** User + system CPU seconds a process has used so far (utime + stime of /proc/<pid>/stat). */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name may contain spaces and parentheses: fields are counted after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return Number.NaN
  }
}

/**
 * Busy and total clock ticks of one core so far, from /proc/stat (every process, ours or not): on a
 * shared machine, a server using 30% of a core that is 100% busy was starved, not idle.
 */
export function coreTicks(core: number): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`cpu${core} `))
    if (!line) return { busy: Number.NaN, total: Number.NaN }
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number) as number[]
    const busy = user! + nice! + system! + irq! + softirq! + steal!
    return { busy, total: busy + idle! + iowait! }
  } catch {
    return { busy: Number.NaN, total: Number.NaN }
  }
}

/** Resident set size in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Ends a child: SIGTERM, then SIGKILL after `graceMs`. Resolves once it has exited. */
export async function stopProcess(proc: ChildProcess, graceMs = 3000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
  proc.kill('SIGTERM')
  const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

/** Kills every child still running, by pid; safe to call more than once and from 'exit'. */
export function killAll(): void {
  for (const proc of live) {
    try {
      proc.kill('SIGKILL')
    } catch {
      // already gone
    }
  }
  live.clear()
}

/** Resolves once something accepts TCP on 127.0.0.1:port; rejects after `ms` or when `alive()` turns false. */
export async function waitForPort(port: number, ms: number, alive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (!alive()) throw new Error(`the process meant to listen on port ${port} exited`)
    if (await canConnect(port)) return
    if (Date.now() > deadline) throw new Error(`nothing accepted connections on port ${port} within ${ms} ms`)
    await sleep(25)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Rejects with `what` when `promise` takes longer than `ms`: every wait in a run is bounded. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// Whatever ends the orchestrator, its children go with it.
process.once('exit', killAll)
