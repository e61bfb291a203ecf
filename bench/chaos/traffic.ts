/**
 * Steady service traffic for scenarios 1 and 2: user-targeted messages round robin over the users
 * (client i is user `c<i>`), plus broadcasts, at fixed rates, each carrying its sequence number.
 */
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { pool } from './common.js'
import { ALL, Ledger, SeqPublisher } from './ledger.js'
import { ReconnectingClient } from '../lib/reconnecting-client.js'

const TICK_MS = 10

export interface TrafficRates {
  /** User messages per second, over all users. */
  readonly userPerSecond: number
  readonly broadcastPerSecond: number
}

export const userId = (index: number): string => `c${index}`

/**
 * A service's NATS connection: reconnects quickly (250 ms) and forever, as a service that wants
 * its traffic back soon would be configured.
 */
export function connectService(url: string): Promise<NatsConnection> {
  return connect({ servers: url, name: 'chaos-service', maxReconnectAttempts: -1, reconnectTimeWait: 250, waitOnFirstConnect: true })
}

/**
 * Raw clients 0..tokens.length-1 of the ledger, each receiving into its own row, connected 50 at a
 * time; `reconnect` makes them come back the way withAutomaticReconnect() does.
 */
export async function connectLedgerClients(hubUrl: string, tokens: readonly string[], ledger: Ledger, reconnect: boolean): Promise<ReconnectingClient[]> {
  const clients: ReconnectingClient[] = []
  await pool(tokens, 50, async (token, i) => {
    const client = new ReconnectingClient({ hubUrl, token, reconnect, onInvocation: (_, args) => ledger.receive(i, args[0] as number) })
    await client.connect()
    clients[i] = client
  })
  return clients
}

export class Traffic {
  private timer: NodeJS.Timeout | undefined
  private userDebt = 0
  private broadcastDebt = 0
  private nextUser = 0
  readonly publisher: SeqPublisher

  constructor(
    nc: NatsConnection,
    private readonly ledger: Ledger,
    private readonly users: number,
    private readonly rates: TrafficRates,
  ) {
    this.publisher = new SeqPublisher(nc, ledger)
  }

  start(): void {
    const started = performance.now()
    let ticks = 0
    const tick = (): void => {
      // Catch up on the schedule rather than drift: a slow tick sends the next ones sooner.
      const due = Math.floor((performance.now() - started) / TICK_MS) - ticks
      for (let i = 0; i < Math.max(1, due); i++) this.tick()
      ticks += Math.max(1, due)
      this.timer = setTimeout(tick, TICK_MS)
    }
    this.timer = setTimeout(tick, TICK_MS)
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer)
    this.timer = undefined
    await this.publisher.settled()
  }

  private tick(): void {
    this.userDebt += (this.rates.userPerSecond * TICK_MS) / 1000
    this.broadcastDebt += (this.rates.broadcastPerSecond * TICK_MS) / 1000
    const targets: number[] = []
    for (; this.userDebt >= 1; this.userDebt--) targets.push(this.nextUser++ % this.users)
    for (; this.broadcastDebt >= 1; this.broadcastDebt--) targets.push(ALL)
    this.publisher.batch(targets, (seq, target) =>
      target === ALL
        ? { subject: 'im.default.send', payload: JSON.stringify({ method: 'msg', args: [seq] }) }
        : { subject: 'im.default.send.user', payload: JSON.stringify({ userId: userId(target), method: 'msg', args: [seq] }) },
    )
  }
}

/** Sequence capacity for a run of `seconds` at these rates, with room for catch-up ticks. */
export function capacityFor(rates: TrafficRates, seconds: number): number {
  return Math.ceil((rates.userPerSecond + rates.broadcastPerSecond) * seconds * 1.3) + 1000
}

export type { Ledger }
