/** What every scenario shares: the result shape, timing helpers and official-client cohorts. */
import * as signalR from '@microsoft/signalr'
import { SignJWT } from 'jose'
import type { LedgerSummary } from './ledger.js'
import type { NodeMemory } from './node-process.js'

/** The secret the nodes under test verify HS256 tokens with (users let the service target each client). */
export const CHAOS_JWT_SECRET = 'chaos-suite-secret-that-is-long-enough-for-hs256'

export interface Memory {
  readonly before: NodeMemory
  /** Highest RSS seen: the kernel's high-water mark (VmHWM) at the end. */
  readonly maxRss: number
  readonly after: NodeMemory
}

export interface ScenarioResult {
  readonly id: string
  readonly name: string
  readonly published: number | undefined
  readonly delivered: number | undefined
  readonly lost: number | undefined
  readonly duplicated: number | undefined
  readonly memory: Memory
  readonly pass: boolean
  /** Each promise checked, with what was seen. */
  readonly checks: ReadonlyArray<{ readonly promise: string; readonly ok: boolean; readonly seen: string }>
  /** Scenario-specific figures (reconnect times, latencies, rates). */
  readonly details: Readonly<Record<string, unknown>>
  readonly seconds: number
}

export function check(promise: string, ok: boolean, seen: string): { promise: string; ok: boolean; seen: string } {
  return { promise, ok, seen }
}

/** The figures every ledger scenario reports: the counts, the node's memory, and the verdict of its checks. */
export function ledgerFigures(
  summary: LedgerSummary,
  before: NodeMemory,
  after: NodeMemory,
  checks: ScenarioResult['checks'],
): Pick<ScenarioResult, 'published' | 'delivered' | 'lost' | 'duplicated' | 'memory' | 'pass' | 'checks'> {
  return {
    published: summary.published,
    delivered: summary.delivered,
    lost: summary.lost,
    duplicated: summary.duplicated,
    memory: { before, maxRss: after.rssPeak, after },
    pass: checks.every((c) => c.ok),
    checks,
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` every `interval` ms until it holds or `ms` pass; returns whether it held. */
export async function until(condition: () => boolean | Promise<boolean>, ms: number, interval = 50): Promise<boolean> {
  const deadline = performance.now() + ms
  for (;;) {
    if (await condition()) return true
    if (performance.now() > deadline) return false
    await sleep(interval)
  }
}

export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

export const mb = (bytes: number | undefined): string => (bytes === undefined ? '-' : (bytes / 1048576).toFixed(1))
export const ms = (value: number | undefined): string => (value === undefined ? '-' : value.toFixed(1))

export async function tokenFor(userId: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(CHAOS_JWT_SECRET))
}

/** Runs `work` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++
      await work(items[index]!, index)
    }
  })
  await Promise.all(lanes)
}

/**
 * Official @microsoft/signalr clients: the correctness cohort. Each records how often it lost its
 * connection and, with automatic reconnect, its gaps (onreconnecting -> onreconnected).
 */
export class OfficialClient {
  drops = 0
  closedForGood = false
  readonly gaps: Array<{ from: number; to?: number }> = []

  private constructor(readonly connection: signalR.HubConnection) {
    connection.onreconnecting(() => {
      this.drops++
      this.gaps.push({ from: performance.now() })
    })
    connection.onreconnected(() => {
      const gap = this.gaps.at(-1)
      if (gap && gap.to === undefined) gap.to = performance.now()
    })
    connection.onclose(() => {
      this.closedForGood = true
    })
  }

  static async start(
    hubUrl: string,
    token: string,
    reconnect: boolean,
    onMessage: (target: string, args: unknown[]) => void,
    targets: readonly string[],
    options: { readonly stateful?: boolean } = {},
  ): Promise<OfficialClient> {
    let builder = new signalR.HubConnectionBuilder()
      .withUrl(hubUrl, { transport: signalR.HttpTransportType.WebSockets, accessTokenFactory: () => token })
      .configureLogging(process.env.CHAOS_DEBUG ? signalR.LogLevel.Information : signalR.LogLevel.None)
    // The default schedule (0, 2, 10, 30 s): what a frontend gets from withAutomaticReconnect().
    if (reconnect) builder = builder.withAutomaticReconnect()
    if (options.stateful) builder = builder.withStatefulReconnect()
    const connection = builder.build()
    for (const target of targets) connection.on(target, (...args: unknown[]) => onMessage(target, args))
    const client = new OfficialClient(connection)
    await connection.start()
    return client
  }

  get connected(): boolean {
    return this.connection.state === signalR.HubConnectionState.Connected
  }

  async stop(): Promise<void> {
    await this.connection.stop().catch(() => undefined)
  }
}
