/**
 * A real NATS cluster for tests: three nats-server processes on free ports, joined by routes,
 * each with JetStream and its own store directory. Each server can be killed (SIGKILL, a crash)
 * and restarted on the same ports and store. `ready()` waits until JetStream has a meta leader and
 * every running server answers its health check, so a test starts from a working cluster.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { freePort, startNatsServer } from './nats-server.js'
import type { NatsServer } from './nats-server.js'

export interface ClusterServer {
  /** `n1`, `n2`, `n3`: the server_name, as JetStream reports leaders and replicas. */
  readonly name: string
  readonly server: NatsServer
  /** False between `kill()` and `restart()`. */
  readonly running: boolean
  kill(): Promise<void>
  restart(): Promise<void>
}

export interface NatsCluster extends AsyncDisposable {
  readonly servers: readonly ClusterServer[]
  /** Every client URL, comma separated, as IM_NATS_URL takes them. */
  readonly urls: string
  byName(name: string): ClusterServer
  /** The server holding `url` (`nats://127.0.0.1:<port>` or `127.0.0.1:<port>`). */
  byUrl(url: string): ClusterServer
  /** Resolves once every running server is healthy and JetStream has a meta leader; bounded. */
  ready(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

const SIZE = 3

export async function startNatsCluster(options: { readonly name?: string } = {}): Promise<NatsCluster> {
  const clusterName = options.name ?? 'im-test'
  const routePorts = await Promise.all(Array.from({ length: SIZE }, () => freePort()))
  const routes = routePorts.map((port) => `nats-route://127.0.0.1:${port}`).join(', ')
  const started: ClusterServer[] = []
  try {
    for (let i = 0; i < SIZE; i++) {
      const name = `n${i + 1}`
      const server = await startNatsServer({
        jetstream: true,
        monitoring: true,
        config: `server_name: ${name}\ncluster {\n  name: ${clusterName}\n  listen: 127.0.0.1:${routePorts[i]}\n  routes: [${routes}]\n}\n`,
      })
      let running = true
      started.push({
        name,
        server,
        get running() {
          return running
        },
        async kill() {
          running = false
          await server.kill('SIGKILL')
        },
        async restart() {
          await server.restart()
          running = true
        },
      })
    }
  } catch (error) {
    await Promise.all(started.map((s) => s.server.stop().catch(() => undefined)))
    throw error
  }

  const cluster: NatsCluster = {
    servers: started,
    urls: started.map((s) => s.server.url).join(','),
    byName(name) {
      const found = started.find((s) => s.name === name)
      if (!found) throw new Error(`no server named ${name} in the test cluster`)
      return found
    },
    byUrl(url) {
      const port = Number(/:(\d+)\/?$/.exec(url)?.[1])
      const found = started.find((s) => s.server.port === port)
      if (!found) throw new Error(`no server of the test cluster listens at ${url}`)
      return found
    },
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      let last = 'not asked yet'
      for (;;) {
        last = await unhealthy(started.filter((s) => s.running))
        if (last === '') return
        if (Date.now() > deadline) throw new Error(`the NATS test cluster is not ready after ${timeoutMs} ms: ${last}`)
        await new Promise((resolve) => setTimeout(resolve, 200))
      }
    },
    async stop() {
      await Promise.all(started.map((s) => s.server.stop()))
    },
    [Symbol.asyncDispose]() {
      return cluster.stop()
    },
  }
  return cluster
}

/** Why the cluster is not ready yet, or '' when every running server is healthy and a meta leader answers. */
async function unhealthy(running: readonly ClusterServer[]): Promise<string> {
  for (const s of running) {
    const answer = await fetch(`${s.server.monitorUrl}/healthz`).catch((error: unknown) => error as Error)
    if (answer instanceof Error) return `${s.name}: ${answer.message}`
    if (!answer.ok) return `${s.name}: /healthz ${answer.status} ${await answer.text()}`
  }
  const first = running[0]
  if (!first) return 'no server is running'
  const nc = await connect({ servers: first.server.url, timeout: 1000 }).catch((error: unknown) => error as Error)
  if (nc instanceof Error) return `${first.name}: ${nc.message}`
  try {
    // An account info answer needs the JetStream meta leader.
    await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo()
    return ''
  } catch (error) {
    return `JetStream: ${(error as Error).message}`
  } finally {
    await nc.close()
  }
}
