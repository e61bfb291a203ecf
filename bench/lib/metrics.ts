/**
 * The rows a run's table has: for each workload, which figures it shows, read from every target's
 * run, each with whether the phase behind it was complete (every message, call or connect counted).
 */
import type { RunResult, TargetRun } from './bench.js'

export interface Metric {
  readonly workload: string
  readonly metric: string
  readonly unit: string
  /** Rows of one run: (N, value, complete) for each point of this metric. */
  readonly pick: (run: TargetRun) => Array<{ connections: number; value: number | undefined; complete: boolean }>
}

const KB = 1024

/** What every timed phase reports, whatever it counts: its latency, the server's CPU and the load side's. */
interface Timed {
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
  readonly serverCpuPercent: number
  readonly serverCoreBusyPercent?: number
  readonly loadCpuSeconds: number
  readonly seconds: number
  readonly complete: boolean
}

/** Rows of one workload: its own figures first, then latency and CPU, the same way for every workload. */
function timed<P extends Timed>(
  workload: string,
  of: (run: TargetRun) => Array<P & { n: number }>,
  own: ReadonlyArray<readonly [metric: string, unit: string, value: (p: P) => number]>,
  latencyName: string,
): Metric[] {
  const metric = (name: string, unit: string, value: (p: P) => number): Metric => ({
    workload,
    metric: name,
    unit,
    pick: (run) => of(run).map((p) => ({ connections: p.n, value: value(p), complete: p.complete })),
  })
  return [
    ...own.map(([name, unit, value]) => metric(name, unit, value)),
    metric(`${latencyName} p50`, 'ms', (p) => p.latencyMs.p50),
    metric(`${latencyName} p99`, 'ms', (p) => p.latencyMs.p99),
    metric(`${latencyName} max`, 'ms', (p) => p.latencyMs.max),
    metric('server CPU', '%', (p) => p.serverCpuPercent),
    // Everything that ran on the server's core, other people's work included: near 100% while the
    // server's own share is low means it was starved, and its figures say more about the machine.
    metric('server core busy, all processes', '%', (p) => p.serverCoreBusyPercent ?? Number.NaN),
    // The other side of the machine: workers, cohort, publisher, nats-server (and redis-server), in % of one core.
    metric('load-side CPU', '%', (p) => (p.loadCpuSeconds / p.seconds) * 100),
  ]
}

export function metricsFor(result: RunResult): Metric[] {
  const o = result.options
  const idleComplete = (r: TargetRun['idle'][number]): boolean => r.serverCounted === r.connections && r.failed === 0
  return [
    {
      workload: 'idle',
      metric: 'server RSS per connection',
      unit: 'KB',
      pick: (run) => run.idle.map((r) => ({ connections: r.connections, value: r.rssPerConnection / KB, complete: idleComplete(r) })),
    },
    {
      workload: 'idle',
      metric: 'server heap per connection',
      unit: 'KB',
      pick: (run) => run.idle.map((r) => ({ connections: r.connections, value: r.heapPerConnection === undefined ? undefined : r.heapPerConnection / KB, complete: idleComplete(r) })),
    },
    ...(['fixed', 'max'] as const).flatMap((mode) =>
      timed(
        mode === 'fixed' ? `broadcast ${o.fixedDeliveriesPerSecond / 1000}k deliveries/s` : 'broadcast max rate',
        (run) => run.broadcast.filter((b) => b.spec.mode === mode).map((b) => ({ ...b, n: b.connections })),
        [
          ...(mode === 'max' ? [['deliveries/s at the clients', '/s', (b: TargetRun['broadcast'][number]) => b.deliveriesPerSecond] as const] : []),
          ['server CPU per delivery', 'µs', (b: TargetRun['broadcast'][number]) => b.serverMicrosPerDelivery] as const,
        ],
        'latency',
      ),
    ),
    ...(['fixed', 'max'] as const).flatMap((mode) =>
      timed(
        mode === 'fixed' ? `targeted ${o.targetedRate / 1000}k msgs/s` : 'targeted max rate',
        (run) => (run.targeted ?? []).filter((t) => t.spec.mode === mode).map((t) => ({ ...t, n: t.connections })),
        [
          ['messages/s', '/s', (t) => t.messagesPerSecond],
          ['server CPU per message', 'µs', (t) => t.serverMicrosPerMessage],
        ],
        'latency',
      ),
    ),
    ...timed(
      'invocations max rate',
      (run) => (run.invocations ?? []).map((i) => ({ ...i, n: i.clients })),
      [
        ['completions/s', '/s', (i) => i.completionsPerSecond],
        ['server CPU per invocation', 'µs', (i) => i.serverMicrosPerInvocation],
      ],
      'invocation→completion',
    ),
    ...timed(
      'churn with JWT',
      // N is the number of concurrent connect-close loops.
      (run) => (run.churn ?? []).map((c) => ({ ...c, n: c.spec.lanes * o.workers })),
      [
        ['connects/s', '/s', (c) => c.connectsPerSecond],
        ['server CPU per connect', 'µs', (c) => c.serverMicrosPerConnect],
      ],
      'connect',
    ),
  ]
}
