/**
 * An IMService node under test, run as its own process (`node cli/bin.mjs serve`), so that its
 * memory is its own and a `kill -9` is a real crash. Memory comes from /proc (RSS now and the
 * kernel's high-water mark) and, for the heap, from a preloaded probe over IPC after a full GC.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PROBE = fileURLToPath(new URL('./node-probe.mjs', import.meta.url))
const BANNER = /IMService listening on (http:\/\/[^\s]+)/
const START_MS = 20_000

export interface NodeMemory {
  /** Resident set size, bytes (/proc/<pid>/status VmRSS). */
  readonly rss: number
  /** Peak RSS since start, bytes (VmHWM). */
  readonly rssPeak: number
  /** V8 heap in use after a full GC, bytes; undefined when the probe did not answer. */
  readonly heapUsed?: number
  /** Open file descriptors (sockets included). */
  readonly fds: number
}

export interface Health {
  readonly connections: number
  readonly bus: { readonly state: string }
}

export interface ImNodeOptions {
  readonly natsUrl: string
  readonly nodeId: string
  /** Extra IM_* variables (limits for the run). */
  readonly env?: Readonly<Record<string, string>>
  /** Options for `node` itself, e.g. `--max-old-space-size=1024` to cap a node under attack. */
  readonly nodeArgs?: readonly string[]
  /** The checkout whose `cli/bin.mjs` runs: this one by default, another to measure an older build. */
  readonly root?: string
}

export class ImNode {
  private output = ''
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly port: number,
    readonly nodeId: string,
    output: string,
  ) {
    this.output = output
    proc.stdout?.on('data', (chunk: string) => this.keep(chunk))
    proc.stderr?.on('data', (chunk: string) => this.keep(chunk))
  }

  /** Starts a node on a free loopback port and resolves once its banner names the URL. */
  static async start(options: ImNodeOptions): Promise<ImNode> {
    // The machine's IM_* variables must not leak into the run: only what we set counts.
    const env: Record<string, string> = {}
    for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('IM_') && value !== undefined) env[key] = value
    Object.assign(env, {
      IM_PORT: '0',
      IM_HOST: '127.0.0.1',
      IM_NATS_URL: options.natsUrl,
      IM_NODE_ID: options.nodeId,
      IM_LOG_LEVEL: 'warn',
      ...options.env,
    })
    const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), '--expose-gc', '--import', PROBE, 'cli/bin.mjs', 'serve'], {
      cwd: options.root ?? ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    live.add(proc)
    proc.once('exit', () => live.delete(proc))
    proc.stdout!.setEncoding('utf8')
    proc.stderr!.setEncoding('utf8')
    let output = ''
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`node ${options.nodeId} printed no banner within ${START_MS} ms`)), START_MS)
      const onData = (chunk: string): void => {
        output = (output + chunk).slice(-8000)
        const match = BANNER.exec(output)
        if (match) {
          cleanup()
          resolve(match[1]!)
        }
      }
      const onExit = (code: number | null, signal: string | null): void => fail(new Error(`node ${options.nodeId} exited at start (code ${code}, signal ${signal})`))
      function fail(error: Error): void {
        cleanup()
        proc.kill('SIGKILL')
        reject(new Error(`${error.message}\n--- output ---\n${output}`))
      }
      function cleanup(): void {
        clearTimeout(timer)
        proc.stdout!.off('data', onData)
        proc.stderr!.off('data', onData)
        proc.off('exit', onExit)
      }
      proc.stdout!.on('data', onData)
      proc.stderr!.on('data', onData)
      proc.once('exit', onExit)
    })
    return new ImNode(proc, url, Number(new URL(url).port), options.nodeId, output)
  }

  get pid(): number {
    return this.proc.pid!
  }

  get alive(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null
  }

  /** What the node printed (its last 8 kB): warnings and errors, as IM_LOG_LEVEL is warn. */
  get log(): string {
    return this.output
  }

  hubUrl(path = '/signalr-hubs/default'): string {
    return `${this.url}${path}`
  }

  async health(): Promise<Health> {
    const res = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(3000) })
    return (await res.json()) as Health
  }

  /** Counters from /metrics (`im_<name>_total`), by name without prefix and suffix. */
  async metrics(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text()
    const out: Record<string, number> = {}
    for (const line of text.split('\n')) {
      const match = /^im_([a-z_]+?)(?:_total)? (\d+(?:\.\d+)?)$/.exec(line)
      if (match) out[match[1]!] = Number(match[2])
    }
    return out
  }

  /** RSS and fds from /proc; the heap from the probe when `heap` is asked (it runs a GC, so not in hot loops). */
  async memory(heap = false): Promise<NodeMemory> {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024
    const fds = readdirSync(`/proc/${this.pid}/fd`).length
    const heapUsed = heap ? await this.heap() : undefined
    return { rss: kb('VmRSS'), rssPeak: kb('VmHWM'), fds, ...(heapUsed !== undefined ? { heapUsed } : {}) }
  }

  private heap(): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), 3000)
      const onMessage = (message: unknown): void => {
        const m = message as { kind?: string; heapUsed?: number }
        if (m.kind === 'mem') done(m.heapUsed)
      }
      const done = (value: number | undefined): void => {
        clearTimeout(timer)
        this.proc.off('message', onMessage)
        resolve(value)
      }
      this.proc.on('message', onMessage)
      this.proc.send('mem')
    })
  }

  /** CPU seconds (user + system) the node has used so far, from /proc/<pid>/stat. */
  cpuSeconds(): number {
    const stat = readFileSync(`/proc/${this.pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  }

  /** SIGKILL: a crash, nothing drained. Resolves once the process is gone. */
  async kill9(): Promise<void> {
    await this.signal('SIGKILL')
  }

  /** SIGTERM (graceful drain), then SIGKILL if it overstays. */
  async stop(): Promise<void> {
    if (!this.alive) return
    const exited = this.signal('SIGTERM')
    const overstay = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 10_000).unref())
    if ((await Promise.race([exited, overstay])) === 'late') await this.signal('SIGKILL')
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    if (!this.alive) return Promise.resolve()
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()))
    this.proc.kill(signal)
    return exited
  }

  private keep(chunk: string): void {
    this.output = (this.output + chunk).slice(-8000)
  }
}

const live = new Set<ChildProcess>()
// A runner that dies (an exception, Ctrl-C) must not leave nodes behind: they are killed by pid.
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL')
})
