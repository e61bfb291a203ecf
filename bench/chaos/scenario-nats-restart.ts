/**
 * Scenario 1: nats-server is killed (SIGKILL) during steady traffic and restarted on the same port.
 * Promise: every client stays connected; nothing is duplicated; what NATS accepted is delivered,
 * except in the window where IMService is not yet subscribed again (core NATS is at most once).
 */
import { startNatsServer } from '../../test/support/nats-server.js'
import { CHAOS_JWT_SECRET, check, ledgerFigures, OfficialClient, sleep, tokenFor, until } from './common.js'
import type { ScenarioResult } from './common.js'
import { Ledger } from './ledger.js'
import { ImNode } from './node-process.js'
import type { ReconnectingClient } from '../lib/reconnecting-client.js'
import { capacityFor, connectLedgerClients, connectService, Traffic, userId } from './traffic.js'
import type { TrafficRates } from './traffic.js'

export interface NatsRestartOptions extends TrafficRates {
  readonly rawClients: number
  readonly officialClients: number
  readonly steadyMs: number
  readonly downMs: number
  readonly afterMs: number
}

export const NATS_RESTART_FULL: NatsRestartOptions = { rawClients: 200, officialClients: 5, userPerSecond: 1000, broadcastPerSecond: 10, steadyMs: 4000, downMs: 3000, afterMs: 6000 }
export const NATS_RESTART_QUICK: NatsRestartOptions = { rawClients: 100, officialClients: 3, userPerSecond: 500, broadcastPerSecond: 10, steadyMs: 2000, downMs: 1500, afterMs: 3500 }

/** Loss this close to the outage still counts as "in the outage" (messages in flight when NATS died). */
const WINDOW_BEFORE_MS = 500
/** After IMService's bus is back, its subscriptions need a round trip to the restarted server. */
const WINDOW_AFTER_MS = 1000

export async function natsRestartScenario(options: NatsRestartOptions): Promise<ScenarioResult> {
  const began = performance.now()
  const nats = await startNatsServer()
  const node = await ImNode.start({ natsUrl: nats.url, nodeId: 'chaos-1', env: { IM_JWT_SECRET: CHAOS_JWT_SECRET, IM_MAX_CONNECTIONS_PER_ADDRESS: '10000' } })
  const total = options.rawClients + options.officialClients
  const seconds = (options.steadyMs + options.downMs + options.afterMs) / 1000
  const ledger = new Ledger(total, capacityFor(options, seconds))
  const raws: ReconnectingClient[] = []
  const officials: OfficialClient[] = []
  const nc = await connectService(nats.url)
  try {
    const tokens = await Promise.all(Array.from({ length: total }, (_, i) => tokenFor(userId(i))))
    raws.push(...(await connectLedgerClients(node.hubUrl(), tokens.slice(0, options.rawClients), ledger, false)))
    for (let j = 0; j < options.officialClients; j++) {
      const index = options.rawClients + j
      officials.push(await OfficialClient.start(node.hubUrl(), tokens[index]!, false, (_, args) => ledger.receive(index, args[0] as number), ['msg']))
    }
    await until(async () => (await node.health()).connections === total, 5000)
    const before = await node.memory(true)

    // Watch the node from outside: its bus state, and how many connections it holds throughout.
    let minConnections = total
    let busDownAt: number | undefined
    let busUpAt: number | undefined
    let watching = true
    const watcher = (async () => {
      while (watching) {
        try {
          const health = await node.health()
          minConnections = Math.min(minConnections, health.connections)
          if (health.bus.state !== 'connected' && busDownAt === undefined) busDownAt = performance.now()
          if (health.bus.state === 'connected' && busDownAt !== undefined && busUpAt === undefined) busUpAt = performance.now()
        } catch {
          minConnections = 0
        }
        await sleep(50)
      }
    })()

    const traffic = new Traffic(nc, ledger, total, options)
    traffic.start()
    await sleep(options.steadyMs)
    const killAt = performance.now()
    await nats.kill('SIGKILL')
    await sleep(options.downMs)
    await nats.restart()
    const restartAt = performance.now()
    await sleep(options.afterMs)
    await traffic.stop()
    // Let the last messages land: until receipts stop changing, at most 3 s.
    await ledger.settled()
    watching = false
    await watcher
    const after = await node.memory(true)

    const summary = ledger.summary()
    const windowStart = killAt - WINDOW_BEFORE_MS
    const windowEnd = (busUpAt ?? Infinity) + WINDOW_AFTER_MS
    let lostInOutage = 0
    let lostOutside = 0
    let lostBeforeKill = 0
    let lostAfterRestart = 0
    let firstDeliveryAfterRestart: number | undefined
    for (const lost of ledger.lostDeliveries()) {
      if (lost.at >= windowStart && lost.at <= windowEnd) lostInOutage++
      else lostOutside++
      if (lost.at < killAt) lostBeforeKill++
      else if (lost.at >= restartAt) lostAfterRestart++
    }
    // When delivery resumed: the first message sent after the restart that reached anyone.
    for (let seq = 0; seq < summary.published; seq++) {
      if (ledger.timeOf(seq) >= restartAt && ledger.receiptsOf(seq) > 0) {
        firstDeliveryAfterRestart = ledger.timeOf(seq)
        break
      }
    }
    const drops = raws.reduce((sum, c) => sum + c.drops, 0) + officials.reduce((sum, c) => sum + c.drops + (c.closedForGood ? 1 : 0), 0)
    const connectedAtEnd = raws.filter((c) => c.connected).length + officials.filter((c) => c.connected).length
    const finalHealth = await node.health()
    const checks = [
      check('no duplicates', summary.duplicated === 0, `${summary.duplicated} duplicated`),
      check('every client stays connected', drops === 0 && connectedAtEnd === total && minConnections === total, `${drops} drops; ${connectedAtEnd}/${total} connected at the end; the node held at least ${minConnections}`),
      check('the bus comes back by itself', busUpAt !== undefined && finalHealth.bus.state === 'connected', busUpAt === undefined ? 'never reconnected' : `IMService reconnected ${((busUpAt - restartAt) / 1000).toFixed(2)} s after the restart`),
      check('accepted messages lost only in the outage window', lostOutside === 0, `${lostInOutage} lost in the window, ${lostOutside} outside it`),
      check('delivery resumes after the restart', firstDeliveryAfterRestart !== undefined, firstDeliveryAfterRestart === undefined ? 'nothing sent after the restart arrived' : `messages sent ${((firstDeliveryAfterRestart - restartAt) / 1000).toFixed(2)} s after the restart arrived`),
    ]
    return {
      id: '1',
      name: 'kill -9 nats-server, restart on the same port',
      ...ledgerFigures(summary, before, after, checks),
      details: {
        clients: `${options.rawClients} raw + ${options.officialClients} official`,
        rates: `${options.userPerSecond} user msg/s + ${options.broadcastPerSecond} broadcast/s`,
        outage: `${options.downMs} ms`,
        accepted: summary.accepted,
        refusedAtPublisher: summary.refused,
        unconfirmed: summary.unconfirmed,
        unconfirmedDelivered: summary.unconfirmedDelivered,
        owed: summary.owed,
        lostInOutageWindow: lostInOutage,
        lostOutsideWindow: lostOutside,
        lostSentBeforeKill: lostBeforeKill,
        lostSentAfterRestart: lostAfterRestart,
        imBusDownAfterKillMs: busDownAt === undefined ? undefined : Math.round(busDownAt - killAt),
        deliveryResumedAfterRestartMs: firstDeliveryAfterRestart === undefined ? undefined : Math.round(firstDeliveryAfterRestart - restartAt),
        imBusUpAfterRestartMs: busUpAt === undefined ? undefined : Math.round(busUpAt - restartAt),
        drops,
      },
      seconds: (performance.now() - began) / 1000,
    }
  } finally {
    for (const client of raws) client.close()
    await Promise.all(officials.map((c) => c.stop()))
    await nc.close().catch(() => undefined)
    await node.stop()
    await nats.stop()
  }
}

