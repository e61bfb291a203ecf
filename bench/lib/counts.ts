/**
 * The counts behind every figure: for each measured phase and target, what was sent, what was owed,
 * what arrived, duplicates, missing and extra (misdelivered, stray or unasked for), summed over the
 * repetitions. A figure from a phase whose counts do not add up is flagged incomplete in the table.
 */
import type { RunResult, TargetRun } from './bench.js'
import type { Counts } from './measure.js'
import { markdownGrid, textGrid } from './grid.js'

export interface CountRow {
  readonly workload: string
  readonly connections: number
  readonly target: string
  readonly counts: Counts
  readonly complete: boolean
}

function phases(run: TargetRun, result: RunResult): Array<{ workload: string; connections: number; counts: Counts; complete: boolean }> {
  const o = result.options
  return [
    ...run.idle.map((r) => ({
      workload: 'idle',
      connections: r.connections + r.failed,
      // sent = connections attempted, received = open at the end, extra = what the server counted beyond them.
      counts: { sent: r.connections + r.failed, expected: r.connections + r.failed, received: r.connections, duplicates: 0, missing: r.failed, extra: Math.max(0, r.serverCounted - r.connections) },
      complete: r.serverCounted === r.connections && r.failed === 0,
    })),
    ...run.broadcast.map((b) => {
      const cohortReceived = b.cohort.perClient.reduce((s, n) => s + n, 0)
      const expected = b.published * (b.rawClients + b.cohortClients)
      const received = b.received + cohortReceived
      return {
        workload: b.spec.mode === 'fixed' ? `broadcast ${o.fixedDeliveriesPerSecond / 1000}k deliveries/s` : 'broadcast max rate',
        connections: b.connections,
        counts: { sent: b.published, expected, received, duplicates: b.duplicates, missing: Math.max(0, expected - received), extra: b.stray },
        complete: b.complete,
      }
    }),
    ...(run.targeted ?? []).map((t) => ({
      workload: t.spec.mode === 'fixed' ? `targeted ${o.targetedRate / 1000}k msgs/s` : 'targeted max rate',
      connections: t.connections,
      counts: t.counts,
      complete: t.complete,
    })),
    ...(run.invocations ?? []).map((i) => ({ workload: 'invocations max rate', connections: i.clients, counts: i.counts, complete: i.complete })),
    ...(run.churn ?? []).map((c) => ({ workload: 'churn with JWT', connections: c.spec.lanes * o.workers, counts: c.counts, complete: c.complete })),
  ]
}

export function countRows(result: RunResult): CountRow[] {
  const byKey = new Map<string, CountRow>()
  for (const run of result.runs) {
    for (const p of phases(run, result)) {
      const key = `${p.workload}|${p.connections}|${run.target}`
      const before = byKey.get(key)
      const add = (k: keyof Counts): number => (before?.counts[k] ?? 0) + p.counts[k]
      byKey.set(key, {
        workload: p.workload,
        connections: p.connections,
        target: run.target,
        counts: { sent: add('sent'), expected: add('expected'), received: add('received'), duplicates: add('duplicates'), missing: add('missing'), extra: add('extra') },
        complete: (before?.complete ?? true) && p.complete,
      })
    }
  }
  return [...byKey.values()]
}

const HEAD = ['workload', 'N', 'target', 'sent', 'owed', 'received', 'duplicates', 'missing', 'extra', 'complete']

function cells(row: CountRow): string[] {
  const c = row.counts
  return [row.workload, String(row.connections), row.target, ...[c.sent, c.expected, c.received, c.duplicates, c.missing, c.extra].map(String), row.complete ? 'yes' : 'NO']
}

export function countsText(rows: readonly CountRow[]): string {
  return textGrid(HEAD, rows.map(cells))
}

export function countsMarkdown(rows: readonly CountRow[]): string {
  return markdownGrid(HEAD, rows.map(cells))
}
