/**
 * Scenario 4: rounds of connections that connect (a quarter through negotiate, the rest with
 * skipNegotiation), complete the SignalR handshake, then vanish without a Close: half with a FIN
 * (socket destroyed), half with an RST. Promise: the node's registry returns to 0 every round and
 * its heap and file descriptors return to their baseline.
 */
import { startNatsServer } from '../../test/support/nats-server.js'
import { check, mb, pool, sleep, until } from './common.js'
import type { ScenarioResult } from './common.js'
import { ImNode } from './node-process.js'
import { ReconnectingClient } from '../lib/reconnecting-client.js'

export interface ChurnOptions {
  readonly rounds: number
  readonly perRound: number
  /** Connections opening at once. */
  readonly concurrency: number
}

export const CHURN_FULL: ChurnOptions = { rounds: 5, perRound: 1000, concurrency: 100 }
export const CHURN_QUICK: ChurnOptions = { rounds: 3, perRound: 500, concurrency: 100 }

/** Heap after a full GC may differ from the baseline by this much (JIT code, pools, caches). */
const HEAP_BUDGET = 10 * 1048576
const FD_BUDGET = 10
const DRAIN_MS = 10_000

export async function churnScenario(options: ChurnOptions): Promise<ScenarioResult> {
  const began = performance.now()
  const nats = await startNatsServer()
  // The whole round comes from 127.0.0.1: lift the per-address bound (1000) above a round.
  const node = await ImNode.start({ natsUrl: nats.url, nodeId: 'chaos-churn', env: { IM_MAX_CONNECTIONS_PER_ADDRESS: String(options.perRound * 2) } })
  const opened = (index: number): Promise<ReconnectingClient> => {
    const client = new ReconnectingClient({ hubUrl: node.hubUrl(), negotiate: index % 4 === 0 })
    return client.connect().then(() => client)
  }
  try {
    // Warm-up (not counted): JIT, buffer pools and the first-connection caches belong to the baseline.
    const warm = await Promise.all(Array.from({ length: 100 }, (_, i) => opened(i)))
    for (const client of warm) client.terminate()
    await until(async () => (await node.health()).connections === 0, DRAIN_MS)
    await sleep(500)
    const before = await node.memory(true)

    let connectMs = 0
    let connected = 0
    let failed = 0
    let peakConnections = 0
    const drainMs: number[] = []
    const failures: Record<string, number> = {}
    const rssAfterRound: number[] = []
    const cpuBefore = node.cpuSeconds()
    for (let round = 0; round < options.rounds; round++) {
      const clients: ReconnectingClient[] = []
      const t0 = performance.now()
      await pool(Array.from({ length: options.perRound }, (_, i) => i), options.concurrency, async (i) => {
        try {
          clients.push(await opened(i))
          connected++
        } catch (error) {
          failed++
          const reason = error instanceof Error ? error.message : String(error)
          failures[reason] = (failures[reason] ?? 0) + 1
        }
      })
      connectMs += performance.now() - t0
      peakConnections = Math.max(peakConnections, (await node.health()).connections)
      const t1 = performance.now()
      clients.forEach((client, i) => client.terminate(i % 2 === 1))
      await until(async () => (await node.health()).connections === 0, DRAIN_MS)
      drainMs.push(performance.now() - t1)
      rssAfterRound.push((await node.memory()).rss)
    }
    const cpuPerConnect = ((node.cpuSeconds() - cpuBefore) / Math.max(1, connected)) * 1e6
    await sleep(1000)
    const afterHealth = await node.health()
    const after = await node.memory(true)
    const heapDelta = (after.heapUsed ?? 0) - (before.heapUsed ?? 0)
    const total = options.rounds * options.perRound
    const checks = [
      check('every connection opens', failed === 0, `${connected}/${total} opened${failed ? `; failures ${JSON.stringify(failures)}` : ''}`),
      check('/healthz connections back to 0', afterHealth.connections === 0, `${afterHealth.connections} after the last round (peak ${peakConnections})`),
      check('heap back to baseline', before.heapUsed !== undefined && heapDelta < HEAP_BUDGET, `${mb(before.heapUsed)} -> ${mb(after.heapUsed)} MB after GC (budget +${HEAP_BUDGET / 1048576} MB)`),
      check('file descriptors back to baseline', after.fds - before.fds <= FD_BUDGET, `${before.fds} -> ${after.fds}`),
    ]
    return {
      id: '4',
      name: `connect and drop ${options.rounds} x ${options.perRound} connections`,
      published: undefined,
      delivered: undefined,
      lost: undefined,
      duplicated: undefined,
      memory: { before, maxRss: after.rssPeak, after },
      pass: checks.every((c) => c.ok),
      checks,
      details: {
        connections: `${connected} opened (${options.concurrency} at a time; 1 in 4 through negotiate), each handshaken then dropped without Close (half FIN, half RST)`,
        connectsPerSecond: Math.round(connected / (connectMs / 1000)),
        // Connect, handshake and disposal together; the clients share the other core with nats-server.
        serverCpuMicrosecondsPerConnection: Math.round(cpuPerConnect),
        rssAfterEachRoundMb: rssAfterRound.map((r) => mb(r)).join(', '),
        drainToZeroMs: drainMs.map((d) => Math.round(d)).join(', '),
        peakConnections,
      },
      seconds: (performance.now() - began) / 1000,
    }
  } finally {
    await node.stop()
    await nats.stop()
  }
}
