/**
 * The servers a run measures, behind one interface so references plug in beside IMService: each
 * is a separate process on the server core, started on a free port against the run's nats-server,
 * preloaded with mem-probe.mjs so RSS and heap are read the same way for all.
 *
 * A target names the raw protocol its load clients speak (`client`), the workloads it can do, and
 * may bring its own publisher (the Socket.IO reference's Redis emitter, nats-ws's own nats-server)
 * and load-side helpers (its redis-server). Targets verify the bench's HS256 tokens (tokens.ts), so
 * targeted delivery and churn with JWT do the same work everywhere.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Emitter } from '@socket.io/redis-emitter'
import { createClient } from 'redis'
import { freePort } from '../../test/support/nats-server.js'
import type { ClientKind } from './load-pool.js'
import { HUB_PATH, METHOD, SOCKETIO_PATH, tickArgs } from './protocol.js'
import { natsWs } from './nats-ws-target.js'
import { rssBytes, spawnPinned, stopProcess, waitForPort, within } from './procs.js'
import { JWT_SECRET } from './tokens.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const PROBE = fileURLToPath(new URL('./mem-probe.mjs', import.meta.url))
const START_MS = 30_000

export interface Memory {
  /** Resident set size, bytes, from /proc. */
  readonly rss: number
  /** V8 heap in use after two full GCs, bytes (via the preloaded probe); undefined if it did not answer. */
  readonly heapUsed?: number
}

/** How a service publishes one tick to a target (NATS `im.default.send` unless the target says otherwise). */
export interface Publisher {
  publish(seq: number, phase: number): void
  /** The same tick to every connection of one user (`im.default.send.user` unless the target says otherwise). */
  publishToUser?(userId: string, seq: number, phase: number): void
  /** Resolves once everything published so far has left for the bus. */
  flush(): Promise<void>
}

export interface RunningTarget {
  readonly pid: number
  /** The protocol of the raw load clients (and of the official cohort). */
  readonly client: ClientKind
  /** `ws://127.0.0.1:<port><path>`: where load clients connect (no negotiate). */
  readonly wsUrl: string
  /** `http://127.0.0.1:<port>` */
  readonly httpUrl: string
  /** Connections the server itself counts (`GET /healthz`). */
  connections(): Promise<number>
  memory(): Promise<Memory>
  /** The target's own publisher; NATS when absent. */
  readonly publisher?: Publisher
  /** Helper processes on the load side (a redis-server) whose CPU counts as load. */
  readonly loadPids?: readonly number[]
  /** `POST <this>?negotiateVersion=1` precedes each connection in the churn workload (SignalR's negotiate); none when absent. */
  readonly negotiateUrl?: string
  stop(): Promise<void>
}

export interface TargetContext {
  readonly natsUrl: string
  readonly core: number | undefined
  /** The load core, for helper processes (a redis-server); undefined when nothing is pinned. */
  readonly loadCore?: number
}

export type WorkloadKind = 'idle' | 'broadcast' | 'targeted' | 'invocations' | 'churn'

export function does(target: Target, workload: WorkloadKind): boolean {
  return target.workloads === undefined || target.workloads.includes(workload)
}

export interface Target {
  /** Short id used in JSON and tables, e.g. `imservice`, `ws-floor`. */
  readonly id: string
  readonly description: string
  readonly reference: boolean
  /** The workloads it does; all when absent. */
  readonly workloads?: readonly WorkloadKind[]
  /** Why this target cannot run on this machine, or undefined when it can (a run skips it and says why). */
  unavailable?(): string | undefined
  start(context: TargetContext): Promise<RunningTarget>
}

/**
 * IMService as users run it: `node cli/bin.mjs serve`, DefaultHub, JSON over WebSockets. Anonymous
 * connections for idle and broadcast; with the bench's HS256 secret, so a token's `sub` is the user.
 */
export const imservice: Target = {
  id: 'imservice',
  description: 'IMService (`node cli/bin.mjs serve`, DefaultHub, JSON over WebSockets)',
  reference: false,
  async start(context) {
    const server = await startNodeServer(context, ['cli/bin.mjs', 'serve'], /IMService listening on (http:\/\/\S+)/, {
      // One address (loopback) holds every load connection: lift the per-address cap (default 1000).
      IM_MAX_CONNECTIONS_PER_ADDRESS: '1000000',
      // The invocation workload calls as fast as completions come back: lift the per-connection bucket (50/s, burst 100).
      IM_MAX_INVOCATIONS_PER_SECOND: '100000',
      IM_INVOCATION_BURST: '100000',
      IM_JWT_SECRET: JWT_SECRET,
      // The invocation workload's raw clients are anonymous: let them publish the bench topics
      // (with a JWT key the default rules refuse anonymous publish); the rule is still evaluated.
      IM_TOPIC_RULES: JSON.stringify([{ pattern: 'bench.>', watch: 'nobody', publish: 'anyone' }]),
      IM_LOG_LEVEL: 'warn',
    })
    return { ...server, negotiateUrl: `${server.httpUrl}${HUB_PATH}/negotiate?negotiateVersion=1` }
  },
}

/** Plain `ws`, one pre-built frame per broadcast: the floor (bench/references/ws-floor.ts). */
export const wsFloor: Target = {
  id: 'ws-floor',
  description: 'plain `ws` + NATS, payload parsed once, frame built once, one socket write per connection',
  reference: true,
  start: (context) =>
    startNodeServer(context, ['--import', 'tsx', 'bench/references/ws-floor.ts'], /ws-floor listening on (http:\/\/\S+)/, { BENCH_JWT_SECRET: JWT_SECRET }),
}

const REDIS_SERVER = process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server'

/**
 * Socket.IO 4 + @socket.io/redis-adapter on its own redis-server (on the load core, as nats-server
 * is), a service emitting through @socket.io/redis-emitter (bench/references/socketio-redis.ts).
 */
export const socketioRedis: Target = {
  id: 'socketio-redis',
  description: 'Socket.IO 4 + @socket.io/redis-adapter on its own redis-server, published through @socket.io/redis-emitter',
  reference: true,
  unavailable: () => (existsSync(REDIS_SERVER) ? undefined : `${REDIS_SERVER} is missing (Debian package redis-server; or set BENCH_REDIS_SERVER)`),
  async start(context) {
    const port = await freePort()
    const redis = spawnPinned(context.loadCore, REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    })
    const redisUrl = `redis://127.0.0.1:${port}`
    let client: { quit(): Promise<unknown> } | undefined
    try {
      await waitForPort(port, 10_000, () => redis.exitCode === null)
      const server = await startNodeServer(context, ['--import', 'tsx', 'bench/references/socketio-redis.ts'], /socketio-redis listening on (http:\/\/\S+)/, {
        BENCH_REDIS_URL: redisUrl,
        BENCH_JWT_SECRET: JWT_SECRET,
      })
      const redisClient = createClient({ url: redisUrl })
      client = redisClient
      redisClient.on('error', () => undefined)
      await redisClient.connect()
      const emitter = new Emitter(redisClient)
      return {
        ...server,
        client: 'socketio',
        wsUrl: `${server.httpUrl.replace(/^http/, 'ws')}${SOCKETIO_PATH}`,
        publisher: {
          publish: (seq, phase) => void emitter.emit(METHOD, ...tickArgs(seq, phase)),
          publishToUser: (userId, seq, phase) => void emitter.to(`user:${userId}`).emit(METHOD, ...tickArgs(seq, phase)),
          // Commands on one connection are answered in order: the PING's answer follows every PUBLISH.
          flush: async () => void (await redisClient.ping()),
        },
        loadPids: [redis.pid!],
        async stop() {
          await server.stop()
          await redisClient.quit().catch(() => undefined)
          await stopProcess(redis)
        },
      }
    } catch (error) {
      await client?.quit().catch(() => undefined)
      await stopProcess(redis)
      throw error
    }
  },
}

export const TARGETS: readonly Target[] = [imservice, wsFloor, socketioRedis, natsWs]

async function startNodeServer(context: TargetContext, args: string[], banner: RegExp, extraEnv: Record<string, string>): Promise<RunningTarget> {
  // The machine's IM_* variables must not leak into a measured server: only what we set counts.
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('IM_') && value !== undefined) env[key] = value
  Object.assign(env, { IM_PORT: '0', IM_HOST: '127.0.0.1', IM_NATS_URL: context.natsUrl, ...extraEnv })
  const proc = spawnPinned(context.core, process.execPath, ['--expose-gc', '--import', PROBE, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  })
  let output = ''
  proc.stdout!.setEncoding('utf8')
  proc.stderr!.setEncoding('utf8')
  const httpUrl = await within(
    new Promise<string>((resolve, reject) => {
      const onData = (chunk: string): void => {
        output = (output + chunk).slice(-8000)
        const match = banner.exec(output)
        if (match?.[1]) resolve(match[1])
      }
      proc.stdout!.on('data', onData)
      proc.stderr!.on('data', (chunk: string) => {
        output = (output + chunk).slice(-8000)
      })
      proc.once('exit', (code, signal) => reject(new Error(`server exited during start (code ${code}, signal ${signal}):\n${output}`)))
    }),
    START_MS,
    `server start (${args.join(' ')})`,
  ).catch(async (error: unknown) => {
    await stopProcess(proc)
    throw error
  })
  // Keep reading so a chatty server never blocks on a full pipe; keep the tail for errors.
  proc.stderr!.on('data', (chunk: string) => {
    output = (output + chunk).slice(-8000)
  })
  const pid = proc.pid!
  return {
    pid,
    client: 'signalr',
    httpUrl,
    wsUrl: `${httpUrl.replace(/^http/, 'ws')}${HUB_PATH}`,
    async connections() {
      const res = await fetch(`${httpUrl}/healthz`, { signal: AbortSignal.timeout(5000) })
      const body = (await res.json()) as { connections?: number }
      return body.connections ?? Number.NaN
    },
    memory: () => probeMemory(proc),
    stop: () => stopProcess(proc),
  }
}

async function probeMemory(proc: ChildProcess): Promise<Memory> {
  const answer = new Promise<number | undefined>((resolve) => {
    const onMessage = (message: { kind?: string; heapUsed?: number }): void => {
      if (message?.kind !== 'mem') return
      proc.off('message', onMessage)
      resolve(message.heapUsed)
    }
    proc.on('message', onMessage)
    proc.send('mem')
  })
  const heapUsed = await within(answer, 10_000, 'memory probe').catch(() => undefined)
  // RSS after the GCs, from /proc, so every kind of server is read alike.
  return { rss: rssBytes(proc.pid!), heapUsed }
}
