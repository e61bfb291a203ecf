/**
 * IMService nodes on a real 3-server NATS cluster (routes, JetStream on each server) while
 * servers die: a SIGKILLed server that led a node's JetStream consumer stalls delivery for less
 * than 10 s, a stream the node created itself (3 replicas) loses nothing and repeats nothing, an
 * R1 stream that is lost leaves clients served from core NATS and nothing doubled when it comes
 * back, and nodes spread over the cluster's servers. Official SignalR clients observe it all.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { dialNats, parseNatsServers } from '../../src/bus/nats-connect.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startTestServer, untilSubscribed } from '../support/im-server.js'
import type { TestServer, TestServerOptions } from '../support/im-server.js'
import { startNatsCluster } from '../support/nats-cluster.js'
import type { NatsCluster } from '../support/nats-cluster.js'
import { probe } from '../support/probes.js'

/** What IMService promises after a server of the cluster is lost. */
const RECOVERY_BOUND_MS = 10_000
const TICK_MS = 50

let cluster: NatsCluster
let service: NatsConnection
let jsm: JetStreamManager
const cleanups: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  cluster = await startNatsCluster()
  await cluster.ready()
  service = await connect({ servers: cluster.urls.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 100 })
  jsm = await jetstreamManager(service)
}, 40_000)

afterAll(async () => {
  await service?.close()
  await cluster?.stop()
})

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  for (const s of cluster.servers) if (!s.running) await s.restart()
  await cluster.ready()
  for await (const name of jsm.streams.names()) await jsm.streams.delete(name).catch(() => undefined)
}, 40_000)

async function node(options: TestServerOptions): Promise<TestServer> {
  const server = await startTestServer({ natsUrl: cluster.urls, ...options })
  cleanups.push(() => server.close())
  await untilSubscribed(server, 20_000)
  return server
}

async function client(server: TestServer): Promise<TestClient> {
  const connection = await connectClient(server.hubUrl())
  cleanups.push(() => connection.stop())
  return connection
}

/** Records when each tick arrived at a client (receipts of the same tick pile up: a repeat). */
function ticks(connection: TestClient): Map<number, number[]> {
  const seen = new Map<number, number[]>()
  connection.on('tick', (n: number) => seen.set(n, [...(seen.get(n) ?? []), Date.now()]))
  return seen
}

/** Collects a node's log lines; `at` says when the first line matching a pattern was written. */
function capture(lines: string[], times: number[] = []): Logger {
  const write = (message: string, fields?: LogFields): void => {
    lines.push(`${message} ${fields ? JSON.stringify(fields) : ''}`)
    times.push(Date.now())
  }
  return { debug: () => undefined, info: write, warn: write, error: write }
}

function loggedAt(lines: readonly string[], times: readonly number[], pattern: RegExp): number | undefined {
  const index = lines.findIndex((line) => pattern.test(line))
  return index === -1 ? undefined : times[index]
}

/**
 * A service publishing a broadcast tick every TICK_MS through JetStream, each with its own
 * Nats-Msg-Id, retrying a tick until the stream acknowledges it (as DotNetCore.CAP retries).
 */
function jetStreamTicker(): { readonly sentAt: Map<number, number>; readonly acked: Set<number>; stop(): Promise<void> } {
  const js = jetstream(service, { timeout: 1000 })
  const sentAt = new Map<number, number>()
  const acked = new Set<number>()
  let running = true
  const loop = (async () => {
    for (let n = 0; running; n++) {
      sentAt.set(n, Date.now())
      const body = JSON.stringify({ method: 'tick', args: [n] })
      while (running && !acked.has(n)) {
        await js.publish('im.default.send', body, { msgID: `tick-${n}` }).then(
          () => acked.add(n),
          () => new Promise((resolve) => setTimeout(resolve, 200)),
        )
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS))
    }
  })()
  return {
    sentAt,
    acked,
    async stop() {
      running = false
      await loop
    },
  }
}

/** A service publishing a plain core NATS broadcast tick (no id) every TICK_MS. */
function coreTicker(): { readonly sentAt: Map<number, number>; stop(): void } {
  const sentAt = new Map<number, number>()
  let n = 0
  const timer = setInterval(() => {
    sentAt.set(n, Date.now())
    service.publish('im.default.send', JSON.stringify({ method: 'tick', args: [n++] }))
  }, TICK_MS)
  return { sentAt, stop: () => clearInterval(timer) }
}

/** Time from `since` to the first receipt of a tick sent at or after it. */
function firstReceiptAfter(seen: Map<number, number[]>, sentAt: Map<number, number>, since: number): number | undefined {
  const times = [...seen].filter(([n]) => (sentAt.get(n) ?? 0) >= since).map(([, at]) => at[0]!)
  return times.length > 0 ? Math.min(...times) - since : undefined
}

function repeats(seen: Map<number, number[]>): number[] {
  return [...seen].filter(([, at]) => at.length > 1).map(([n]) => n)
}

describe('a 3-server NATS cluster losing a server', () => {
  it('creates its stream with 3 replicas, delivers again within 10 s of a SIGKILL of the consumer leader, and loses or repeats nothing', async () => {
    const lines: string[] = []
    const times: number[] = []
    const config = { jetstream: { stream: 'IM_DEFAULT' } }
    const a = await node({ config, logger: capture(lines, times) })
    const b = await node({ config })
    expect((await jsm.streams.info('IM_DEFAULT')).config.num_replicas).toBe(3)
    expect(lines.join('\n')).toContain('JetStream stream IM_DEFAULT, if IMService creates it, gets 3 replica(s) (auto: the NATS cluster reports 3 servers)')
    const clients = [await client(a), await client(b)]
    const seen = clients.map(ticks)

    const ticker = jetStreamTicker()
    await vi.waitFor(() => expect(seen.every((s) => s.size >= 5)).toBe(true), { timeout: 10_000, interval: 20 })
    const leader = (await jsm.consumers.info('IM_DEFAULT', `im-${a.nodeId}`)).cluster?.leader
    expect(leader).toBeDefined()
    const streamLeader = (await jsm.streams.info('IM_DEFAULT')).cluster?.leader
    const bLeader = (await jsm.consumers.info('IM_DEFAULT', `im-${b.nodeId}`)).cluster?.leader
    const killedAt = Date.now()
    await cluster.byName(leader!).kill()

    // Delivery resumes on both nodes: a tick sent after the kill reaches each client.
    await vi.waitFor(() => expect(seen.every((s) => firstReceiptAfter(s, ticker.sentAt, killedAt) !== undefined)).toBe(true), { timeout: 15_000, interval: 20 })
    const recovery = seen.map((s) => firstReceiptAfter(s, ticker.sentAt, killedAt)!)
    // Node a's own consumer delivers again (it has caught up): core NATS stood in until then.
    await vi.waitFor(() => expect(a.bus.status().stream?.state).toBe('ready'), { timeout: 15_000, interval: 50 })
    // The stream takes ticks again; then every acknowledged tick arrives at every client exactly once.
    const ackedBefore = ticker.acked.size
    await vi.waitFor(() => expect(ticker.acked.size).toBeGreaterThanOrEqual(ackedBefore + 20), { timeout: 15_000, interval: 20 })
    await ticker.stop()
    const acked = [...ticker.acked]
    await vi.waitFor(() => expect(seen.map((s) => acked.filter((n) => !s.has(n)).length)).toEqual([0, 0]), { timeout: 15_000, interval: 50 })
    const stalledAt = loggedAt(lines, times, /stalled/)
    const consumerBack = loggedAt(lines, times, /delivers again and has caught up/)! - killedAt
    console.log(
      `[cluster] killed ${leader} (leader of node a's consumer; of node b's: ${bLeader}; of the stream: ${streamLeader}); clients served again after a ${recovery[0]} ms, b ${recovery[1]} ms; ` +
        `node a's consumer stalled after ${stalledAt! - killedAt} ms and caught up after ${consumerBack} ms; ` +
        `${acked.length} ticks acknowledged, lost ${seen.map((s) => acked.filter((n) => !s.has(n)).length).join('/')}, repeated ${seen.map((s) => repeats(s).length).join('/')}`,
    )
    expect(Math.max(...recovery)).toBeLessThan(RECOVERY_BOUND_MS)
    expect(consumerBack).toBeLessThan(RECOVERY_BOUND_MS)
    expect(seen.map(repeats)).toEqual([[], []])
    expect(acked.filter((n) => ticker.sentAt.get(n)! > killedAt).length).toBeGreaterThanOrEqual(20)
  }, 40_000)

  it('serves clients from core NATS while an R1 stream is lost, and repeats nothing once it is back', async () => {
    // An R1 stream on one server; the node talks to the two others.
    await jsm.streams.add({ name: 'IM_R1', subjects: ['im.default.send', 'im.default.send.>', 'im.default.groups.>'], num_replicas: 1 })
    const home = cluster.byName((await jsm.streams.info('IM_R1')).cluster!.leader!)
    const others = cluster.servers.filter((s) => s !== home).map((s) => s.server.url)
    const lines: string[] = []
    const a = await node({ natsUrl: others.join(','), config: { jetstream: { stream: 'IM_R1' } }, logger: capture(lines) })
    const seen = ticks(await client(a))
    const ticker = coreTicker()
    cleanups.push(async () => ticker.stop())
    await vi.waitFor(() => expect(seen.size).toBeGreaterThanOrEqual(5), { timeout: 10_000, interval: 20 })

    const killedAt = Date.now()
    await home.kill()
    // The stream cannot store anything now; core NATS takes over.
    await vi.waitFor(() => expect(firstReceiptAfter(seen, ticker.sentAt, killedAt)).toBeDefined(), { timeout: RECOVERY_BOUND_MS, interval: 20 })
    const servedAfter = firstReceiptAfter(seen, ticker.sentAt, killedAt)!
    const ready = await probe(a.url, '/healthz/ready')
    expect(ready.status).toBe(200)
    expect(ready.body.notes).toEqual([expect.stringMatching(/^JetStream stream IM_R1 recovering \(.+\); its subjects come from core NATS meanwhile$/)])
    expect(lines.join('\n')).toMatch(/Taking im\.default\.send, im\.default\.send\.>, im\.default\.groups\.> from core NATS \(deduplicated against the stream\)/)
    // Every tick sent from now on while the stream is away arrives.
    const outageFrom = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 2000))
    const outageTicks = [...ticker.sentAt].filter(([, at]) => at >= outageFrom).map(([n]) => n)
    const restartedAt = Date.now()
    await home.restart()
    await vi.waitFor(() => expect(a.bus.status().stream?.state).toBe('ready'), { timeout: 20_000, interval: 50 })
    const backAfter = Date.now() - restartedAt
    // Ticks keep coming from the stream, once each; what core NATS delivered is not repeated.
    const backAt = Date.now()
    await vi.waitFor(() => expect([...ticker.sentAt].filter(([n, at]) => at >= backAt && seen.has(n)).length).toBeGreaterThanOrEqual(20), { timeout: 10_000, interval: 20 })
    ticker.stop()
    await new Promise((resolve) => setTimeout(resolve, 500))
    const lostBefore = [...ticker.sentAt].filter(([n, at]) => at < killedAt && !seen.has(n)).length
    const lostAfterBack = [...ticker.sentAt].filter(([n, at]) => at >= backAt && at < Date.now() - 500 && !seen.has(n)).length
    console.log(
      `[cluster] R1 stream server ${home.name} killed: core NATS served after ${servedAfter} ms; stream ready again ${backAfter} ms after the restart; ` +
        `${ticker.sentAt.size} ticks sent, ${outageTicks.filter((n) => !seen.has(n)).length} of ${outageTicks.length} missed in the outage, ` +
        `${lostAfterBack} missed after, repeated ${repeats(seen).length}`,
    )
    expect(servedAfter).toBeLessThan(RECOVERY_BOUND_MS)
    expect(outageTicks.filter((n) => !seen.has(n))).toEqual([])
    expect(lostBefore).toBe(0)
    expect(lostAfterBack).toBe(0)
    expect(repeats(seen)).toEqual([])
    expect((await probe(a.url, '/healthz/ready')).body.notes).toBeUndefined()
  }, 40_000)
})

describe('placement over the cluster', () => {
  it('spreads connections over the listed servers (nats.js shuffles the list)', async () => {
    const servers = parseNatsServers(cluster.urls)!
    const used = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const nc = await dialNats(servers, { name: `placement-${i}` })
      used.add(nc.getServer())
      await nc.close()
    }
    // All 12 on one server has a chance of 3 in 3^12 with a shuffled list.
    expect(used.size).toBeGreaterThanOrEqual(2)
  })

  it('shows the server a node uses on /healthz/ready and /metrics', async () => {
    const a = await node({})
    const server = a.bus.status().server!
    expect(cluster.byUrl(server).running).toBe(true)
    expect((await probe(a.url, '/healthz/ready')).body.server).toBe(server)
    expect(await (await fetch(`${a.url}/metrics`)).text()).toContain(`im_bus_server_info{server="${server}"} 1`)
  })
})
