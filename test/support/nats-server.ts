/**
 * Starts a real nats-server per test suite on a free port, so tests can stop and restart it on the
 * same port (outage tests) without fixed ports. Every wait is bounded and its error carries the
 * tail of the server's log.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'

export interface NatsServer {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** `http://127.0.0.1:<port>` of the monitoring endpoints (/connz, /subsz), when started with `monitoring`. */
  readonly monitorUrl?: string
  /** Stops the server for good (SIGTERM, SIGKILL after a bound) and removes its store. */
  stop(): Promise<void>
  /**
   * Ends the process but keeps port and store, for outage tests: SIGTERM (a clean shutdown) or
   * SIGKILL (a crash). `restart()` brings it back.
   */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>
  /** Ends the process if running and starts it again on the same port and store; resolves once it accepts TCP. */
  restart(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

export interface NatsServerOptions {
  readonly jetstream?: boolean
  /** A port chosen by the caller, e.g. reserved with `freePort()` before the server should exist. */
  readonly port?: number
  /** Serve the HTTP monitoring endpoints on a free port (to count a client's subscriptions). */
  readonly monitoring?: boolean
  /**
   * Extra nats-server configuration (its own syntax: `authorization { ... }`, `tls { ... }`),
   * written to a file the server reads with `-c`. Host and port still come from the command line.
   */
  readonly config?: string
}

const WAIT_MS = 10_000
const STDERR_TAIL = 4000
const live = new Set<ChildProcess>()

/** Every port freePort gave this process. */
const handedOut = new Set<number>()

/**
 * A port nobody listens on right now (the OS picks it; we close it again at once), and never one
 * this process was given before: the OS may pick a port again once it is closed, and a test that
 * takes several ports before it listens on them (or that stops a server to restart it on its port)
 * would otherwise get the same one twice.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await portTheOsPicks()
    if (handedOut.has(port)) continue
    handedOut.add(port)
    return port
  }
}

function portTheOsPicks(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('could not read the free port'))
      })
    })
  })
}

/** nats-server on PATH, else where Debian and manual installs put it. NATS_SERVER_BIN overrides. */
export function findNatsServer(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/local/sbin']
  const candidates = [process.env.NATS_SERVER_BIN, ...dirs.filter(Boolean).map((dir) => join(dir, 'nats-server'))]
  for (const candidate of candidates) {
    if (!candidate) continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here; try the next place
    }
  }
  throw new Error(`nats-server not found on PATH or in /usr/sbin, /usr/local/bin: install it (Debian: apt-get install nats-server) or set NATS_SERVER_BIN`)
}

export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServer> {
  const binary = findNatsServer()
  const port = options.port ?? (await freePort())
  const storeDir = options.jetstream ? mkdtempSync(join(tmpdir(), 'im-nats-js-')) : undefined
  const args = ['-a', '127.0.0.1', '-p', String(port)]
  if (storeDir) args.push('-js', '-sd', storeDir)
  const configDir = options.config !== undefined ? mkdtempSync(join(tmpdir(), 'im-nats-conf-')) : undefined
  if (configDir !== undefined) {
    const file = join(configDir, 'nats-server.conf')
    writeFileSync(file, options.config ?? '')
    args.push('-c', file)
  }
  const monitorPort = options.monitoring ? await freePort() : undefined
  if (monitorPort !== undefined) args.push('-m', String(monitorPort))
  let stderr = ''
  let child: ChildProcess | undefined
  let stopped = false

  const tail = (): string => (stderr.length > 0 ? `\n--- nats-server log (tail) ---\n${stderr.slice(-STDERR_TAIL)}` : '')

  const launch = async (): Promise<void> => {
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    child = proc
    live.add(proc)
    proc.stderr?.setEncoding('utf8')
    proc.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL * 2)
    })
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, signal) => reject(new Error(`nats-server exited early (code ${code}, signal ${signal})${tail()}`)))
      proc.once('error', (error) => reject(new Error(`nats-server failed to start: ${error.message}${tail()}`)))
    })
    exited.catch(() => undefined)
    await Promise.race([waitForPort(port, WAIT_MS, () => proc.exitCode === null && proc.signalCode === null, tail), exited])
  }

  const kill = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    const proc = child
    child = undefined
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      if (proc) live.delete(proc)
      return
    }
    const exit = new Promise<void>((resolve) => proc.once('exit', () => resolve()))
    proc.kill(signal)
    if (!(await within(exit, WAIT_MS / 2))) {
      proc.kill('SIGKILL')
      if (!(await within(exit, WAIT_MS / 2))) throw new Error(`nats-server (pid ${proc.pid}) did not exit after SIGKILL${tail()}`)
    }
    live.delete(proc)
  }

  const server: NatsServer = {
    url: `nats://127.0.0.1:${port}`,
    port,
    ...(monitorPort !== undefined ? { monitorUrl: `http://127.0.0.1:${monitorPort}` } : {}),
    async stop() {
      if (stopped) return
      stopped = true
      try {
        await kill()
      } finally {
        if (storeDir) rmSync(storeDir, { recursive: true, force: true })
        if (configDir) rmSync(configDir, { recursive: true, force: true })
      }
    },
    async kill(signal) {
      if (stopped) throw new Error('nats-server was stopped for good; start a new one')
      await kill(signal)
    },
    async restart() {
      if (stopped) throw new Error('nats-server was stopped for good; start a new one')
      await kill()
      await launch()
    },
    [Symbol.asyncDispose]() {
      return server.stop()
    },
  }
  try {
    await launch()
  } catch (error) {
    await server.stop().catch(() => undefined)
    throw error
  }
  return server
}

/** Resolves once something accepts TCP connections on the port; rejects after `ms`. */
async function waitForPort(port: number, ms: number, alive: () => boolean, tail: () => string): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    if (!alive()) throw new Error(`nats-server exited before accepting connections on port ${port}${tail()}`)
    if (await canConnect(port)) return
    if (Date.now() > deadline) throw new Error(`nats-server did not accept connections on port ${port} within ${ms} ms${tail()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** True when something accepts a TCP connection on 127.0.0.1:port (bounded to 1 s). */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.setTimeout(1000)
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  const ok = await Promise.race([promise.then(() => true as const), timeout])
  clearTimeout(timer)
  return ok
}

// A test worker that dies without running its afterAll must not leave servers behind.
process.once('exit', () => {
  for (const proc of live) proc.kill('SIGKILL')
})
