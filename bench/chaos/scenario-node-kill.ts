/**
 * Scenario 2: one of two IMService nodes behind a round-robin TCP balancer (test/support/tcp-balancer.ts) is killed with SIGKILL
 * during steady traffic. Its clients reconnect (raw clients the way withAutomaticReconnect() does;
 * official clients with its default schedule) and land on the survivor. Without JetStream and
 * stateful reconnect across nodes, what was sent to a client while it had no connection is lost:
 * we count it apart from anything lost while a client was connected, which must be nothing.
 */
import { startNatsServer } from '../../test/support/nats-server.js'
import { startTcpBalancer } from '../../test/support/tcp-balancer.js'
import { CHAOS_JWT_SECRET, check, ledgerFigures, ms, OfficialClient, percentile, sleep, tokenFor, until } from './common.js'
import type { ScenarioResult } from './common.js'
import { Ledger } from './ledger.js'
import { ImNode } from './node-process.js'
import type { ReconnectingClient } from '../lib/reconnecting-client.js'
import { capacityFor, connectLedgerClients, connectService, Traffic, userId } from './traffic.js'
import type { TrafficRates } from './traffic.js'

export interface NodeKillOptions extends TrafficRates {
  readonly rawClients: number
  readonly officialClients: number
  readonly steadyMs: number
  readonly afterMs: number
}

export const NODE_KILL_FULL: NodeKillOptions = { rawClients: 200, officialClients: 10, userPerSecond: 1000, broadcastPerSecond: 10, steadyMs: 4000, afterMs: 8000 }
export const NODE_KILL_QUICK: NodeKillOptions = { rawClients: 100, officialClients: 4, userPerSecond: 500, broadcastPerSecond: 10, steadyMs: 2000, afterMs: 4000 }

/** Messages handed to the killed node just before the kill were in flight when it died. */
const GAP_BEFORE_MS = 250
/** A message published just before the handshake completed may reach the new node after it. */
const GAP_AFTER_MS = 250

export async function nodeKillScenario(options: NodeKillOptions): Promise<ScenarioResult> {
  const began = performance.now()
  const nats = await startNatsServer()
  const env = { IM_JWT_SECRET: CHAOS_JWT_SECRET, IM_MAX_CONNECTIONS_PER_ADDRESS: '10000' }
  const [a, b] = await Promise.all([ImNode.start({ natsUrl: nats.url, nodeId: 'chaos-a', env }), ImNode.start({ natsUrl: nats.url, nodeId: 'chaos-b', env })])
  const balancer = await startTcpBalancer([a, b])
  const hubUrl = `${balancer.url}/signalr-hubs/default`
  const total = options.rawClients + options.officialClients
  const ledger = new Ledger(total, capacityFor(options, (options.steadyMs + options.afterMs) / 1000))
  const raws: ReconnectingClient[] = []
  const officials: OfficialClient[] = []
  const nc = await connectService(nats.url)
  try {
    const tokens = await Promise.all(Array.from({ length: total }, (_, i) => tokenFor(userId(i))))
    raws.push(...(await connectLedgerClients(hubUrl, tokens.slice(0, options.rawClients), ledger, true)))
    for (let j = 0; j < options.officialClients; j++) {
      const index = options.rawClients + j
      officials.push(await OfficialClient.start(hubUrl, tokens[index]!, true, (_, args) => ledger.receive(index, args[0] as number), ['msg']))
    }
    const held = async (): Promise<[number, number]> => [(await a.health()).connections, (await b.health()).connections]
    await until(async () => (await held()).reduce((x, y) => x + y) === total, 5000)
    const [onA] = await held()
    const before = await b.memory(true)

    const traffic = new Traffic(nc, ledger, total, options)
    traffic.start()
    await sleep(options.steadyMs)
    const killAt = performance.now()
    await a.kill9()
    await sleep(options.afterMs)
    await traffic.stop()
    await ledger.settled()
    const after = await b.memory(true)

    // Each client's gaps, whichever kind of client it is, by ledger index.
    const gapsOf = (i: number): ReadonlyArray<{ from: number; to?: number }> => (i < options.rawClients ? raws[i]!.gaps : officials[i - options.rawClients]!.gaps)
    const summary = ledger.summary()
    let lostInGap = 0
    let lostConnected = 0
    for (const lost of ledger.lostDeliveries()) {
      const inGap = gapsOf(lost.client).some((gap) => lost.at >= Math.min(gap.from, killAt) - GAP_BEFORE_MS && lost.at <= (gap.to ?? Infinity) + GAP_AFTER_MS)
      if (inGap) lostInGap++
      else lostConnected++
    }
    const reconnectMs = (list: ReadonlyArray<{ gaps: ReadonlyArray<{ from: number; to?: number }> }>): number[] =>
      list.flatMap((c) => c.gaps.filter((g) => g.to !== undefined).map((g) => g.to! - killAt))
    const rawTimes = reconnectMs(raws)
    const officialTimes = reconnectMs(officials)
    const dropped = raws.filter((c) => c.drops > 0).length + officials.filter((c) => c.drops > 0).length
    const stillDown = raws.filter((c) => !c.connected).length + officials.filter((c) => !c.connected).length
    const onB = (await b.health()).connections
    const checks = [
      check('no duplicates', summary.duplicated === 0, `${summary.duplicated} duplicated`),
      check("the killed node's clients reconnect to the survivor", stillDown === 0 && onB === total, `${dropped} dropped (the node held ${onA}), ${stillDown} still down; the survivor holds ${onB}/${total}`),
      check('nothing lost while a client was connected', lostConnected === 0, `${lostInGap} lost while clients had no connection, ${lostConnected} while connected`),
      check('the other node keeps serving', b.alive, b.alive ? 'alive' : 'died'),
    ]
    return {
      id: '2',
      name: 'kill -9 one of two nodes behind a balancer',
      ...ledgerFigures(summary, before, after, checks),
      details: {
        clients: `${options.rawClients} raw (retry 0, 100, 250 ms...) + ${options.officialClients} official (withAutomaticReconnect())`,
        rates: `${options.userPerSecond} user msg/s + ${options.broadcastPerSecond} broadcast/s`,
        onKilledNode: onA,
        accepted: summary.accepted,
        owed: summary.owed,
        lostWhileDisconnected: lostInGap,
        lostWhileConnected: lostConnected,
        reconnectMsRaw: `p50 ${ms(percentile(rawTimes, 50))}, p99 ${ms(percentile(rawTimes, 99))}, max ${ms(percentile(rawTimes, 100))} (kill -> handshake done, n=${rawTimes.length})`,
        reconnectMsOfficial: `p50 ${ms(percentile(officialTimes, 50))}, max ${ms(percentile(officialTimes, 100))} (n=${officialTimes.length})`,
        balancerRefusedRetried: balancer.refused,
        failedReconnectAttempts: countBy(raws.flatMap((c) => c.failedAttempts)),
        memoryOf: 'the surviving node',
      },
      seconds: (performance.now() - began) / 1000,
    }
  } finally {
    for (const client of raws) client?.close()
    await Promise.all(officials.map((c) => c.stop()))
    await nc.close().catch(() => undefined)
    await balancer.close()
    await Promise.all([a.stop(), b.stop()])
    await nats.stop()
  }
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const value of values) out[value] = (out[value] ?? 0) + 1
  return out
}
