/**
 * Scenario 5: a rolling restart behind a round-robin TCP balancer during steady traffic. Node A
 * gets SIGTERM, comes back as A2, then B gets SIGTERM. Official clients built with
 * withStatefulReconnect() + withAutomaticReconnect() keep their connections (each drained node
 * lets them go without a Close and the other takes them over with what they had not acknowledged)
 * and must lose and repeat nothing. Raw clients without stateful reconnect reconnect afresh on the
 * Close with allowReconnect; what was sent to them in between is lost, counted apart.
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

export interface RollingRestartOptions extends TrafficRates {
  readonly rawClients: number
  readonly statefulClients: number
  /** Traffic before the first restart, between the steps, and after the last. */
  readonly stepMs: number
}

export const ROLLING_FULL: RollingRestartOptions = { rawClients: 100, statefulClients: 40, userPerSecond: 700, broadcastPerSecond: 20, stepMs: 3000 }
export const ROLLING_QUICK: RollingRestartOptions = { rawClients: 40, statefulClients: 12, userPerSecond: 300, broadcastPerSecond: 20, stepMs: 1500 }

export async function rollingRestartScenario(options: RollingRestartOptions): Promise<ScenarioResult> {
  const began = performance.now()
  const nats = await startNatsServer()
  const env = { IM_JWT_SECRET: CHAOS_JWT_SECRET, IM_MAX_CONNECTIONS_PER_ADDRESS: '10000' }
  const start = (nodeId: string): Promise<ImNode> => ImNode.start({ natsUrl: nats.url, nodeId, env })
  const nodes = await Promise.all([start('roll-a'), start('roll-b')])
  // The balancer reads this array for every new TCP connection: a restarted node replaces its entry.
  const targets = [...nodes]
  const balancer = await startTcpBalancer(targets)
  const hubUrl = `${balancer.url}/signalr-hubs/default`
  const total = options.rawClients + options.statefulClients
  const ledger = new Ledger(total, capacityFor(options, (options.stepMs * 4) / 1000))
  const raws: ReconnectingClient[] = []
  const statefuls: OfficialClient[] = []
  const nc = await connectService(nats.url)
  try {
    const tokens = await Promise.all(Array.from({ length: total }, (_, i) => tokenFor(userId(i))))
    raws.push(...(await connectLedgerClients(hubUrl, tokens.slice(0, options.rawClients), ledger, true)))
    for (let j = 0; j < options.statefulClients; j++) {
      const index = options.rawClients + j
      const receive = (_: string, args: unknown[]): void => ledger.receive(index, args[0] as number)
      statefuls.push(await OfficialClient.start(hubUrl, tokens[index]!, true, receive, ['msg'], { stateful: true }))
    }
    const held = async (): Promise<number> => {
      const counts = await Promise.all(targets.map(async (node) => (node.alive ? (await node.health()).connections : 0)))
      return counts.reduce((x, y) => x + y, 0)
    }
    await until(async () => (await held()) === total, 5000)
    const ids = statefuls.map((c) => c.connection.connectionId)
    const before = await nodes[1]!.memory(true)

    const traffic = new Traffic(nc, ledger, total, options)
    traffic.start()
    await sleep(options.stepMs)
    const firstStop = performance.now()
    await nodes[0]!.stop()
    const a2 = await start('roll-a2')
    targets[0] = a2
    await sleep(options.stepMs)
    await nodes[1]!.stop()
    await sleep(options.stepMs)
    await traffic.stop()
    await ledger.settled()
    const after = await a2.memory(true)
    const onA2 = (await a2.health()).connections
    const movedIn = (await a2.metrics())['connections_moved_in'] ?? 0

    const summary = ledger.summary()
    let lostStateful = 0
    let lostRaw = 0
    for (const lost of ledger.lostDeliveries()) {
      if (lost.client >= options.rawClients) lostStateful++
      else lostRaw++
    }
    const sameIds = statefuls.every((c, i) => c.connection.connectionId === ids[i])
    const statefulDrops = statefuls.filter((c) => c.drops > 0).length
    const rawDown = raws.filter((c) => !c.connected).length
    const rawTimes = raws.flatMap((c) => c.gaps.filter((g) => g.to !== undefined).map((g) => g.to! - g.from))
    const checks = [
      check('stateful-reconnect clients lose nothing', lostStateful === 0, `${lostStateful} lost`),
      check('nothing duplicated', summary.duplicated === 0, `${summary.duplicated} duplicated`),
      check(
        'stateful-reconnect clients keep their connection',
        sameIds && statefulDrops === 0,
        `${statefulDrops} of ${statefuls.length} saw a reconnect; connection ids ${sameIds ? 'unchanged' : 'changed'}`,
      ),
      check('every client ends on the restarted node', onA2 === total && rawDown === 0, `${onA2}/${total} on the restarted node, ${rawDown} raw clients down`),
    ]
    return {
      id: '5',
      name: 'rolling restart (SIGTERM each node in turn)',
      ...ledgerFigures(summary, before, after, checks),
      details: {
        clients: `${options.statefulClients} official (withStatefulReconnect() + withAutomaticReconnect()) + ${options.rawClients} raw (no stateful reconnect, reconnect afresh)`,
        rates: `${options.userPerSecond} user msg/s + ${options.broadcastPerSecond} broadcast/s`,
        lostStateful,
        lostRawWhileReconnecting: lostRaw,
        connectionsMovedToRestartedNode: movedIn,
        rawReconnectMs: `gap p50 ${ms(percentile(rawTimes, 50))}, max ${ms(percentile(rawTimes, 100))}, n=${rawTimes.length}`,
        firstStopAfterMs: Math.round(firstStop - began),
        memoryOf: 'node B before, the restarted node A2 after',
      },
      seconds: (performance.now() - began) / 1000,
    }
  } finally {
    for (const client of raws) client?.close()
    await Promise.all(statefuls.map((c) => c.stop()))
    await nc.close().catch(() => undefined)
    await balancer.close()
    await Promise.all(targets.concat(nodes).map((node) => node.stop()))
    await nats.stop()
  }
}
