/**
 * What a run shows: medians per target across repetitions (rows from metrics.ts), the IMService /
 * reference ratio, flags for incomplete phases and noisy figures; as a table on stdout and as
 * Markdown for docs/performance.md. The counts behind the figures are in counts.ts, the target
 * check in goals.ts, the chart in chart.ts.
 */
import type { RunResult } from './bench.js'
import { markdownGrid, textGrid } from './grid.js'
import { metricsFor } from './metrics.js'

const NOISY = 0.15
export const SUBJECT_ID = 'imservice'

export interface Cell {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly samples: number
}

export interface Row {
  readonly workload: string
  readonly connections: number
  readonly metric: string
  readonly unit: string
  readonly values: Record<string, Cell>
  /** IMService ÷ the reference, per reference id. */
  readonly ratios: Record<string, number>
  readonly flags: string[]
}

export function summarize(result: RunResult): Row[] {
  const targets = result.options.targets
  const rows: Row[] = []
  for (const metric of metricsFor(result)) {
    const points = new Map<number, Map<string, Array<{ value: number | undefined; complete: boolean }>>>()
    for (const run of result.runs) {
      for (const p of metric.pick(run)) {
        // Keyed by the planned count; idle by what opened (the plan, unless failures).
        const byTarget = points.get(p.connections) ?? new Map()
        points.set(p.connections, byTarget)
        const list = byTarget.get(run.target) ?? []
        list.push({ value: p.value, complete: p.complete })
        byTarget.set(run.target, list)
      }
    }
    for (const [connections, byTarget] of [...points].sort((a, b) => a[0] - b[0])) {
      const values: Record<string, Cell> = {}
      const flags: string[] = []
      for (const id of targets) {
        const samples = byTarget.get(id) ?? []
        if (samples.some((s) => !s.complete)) flags.push(`${id} incomplete`)
        const numbers = samples.map((s) => s.value).filter((v): v is number => v !== undefined && Number.isFinite(v))
        if (numbers.length === 0) continue
        const cell = cellOf(numbers)
        values[id] = cell
        if (cell.samples > 1 && (cell.max - cell.min) / Math.abs(cell.median) > NOISY) flags.push(`${id} noisy`)
      }
      const ratios: Record<string, number> = {}
      const subject = values[SUBJECT_ID]
      for (const id of targets) if (id !== SUBJECT_ID && subject && values[id]) ratios[id] = subject.median / values[id].median
      rows.push({ workload: metric.workload, connections, metric: metric.metric, unit: metric.unit, values, ratios, flags })
    }
  }
  return rows
}

function cellOf(numbers: number[]): Cell {
  const sorted = [...numbers].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)!, samples: sorted.length }
}

export function format(value: number | undefined, unit: string): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a'
  if (value === 0) return '0'
  if (unit === '/s') return value >= 10_000 ? `${(value / 1000).toFixed(1)}k` : value.toFixed(0)
  if (Math.abs(value) >= 100) return value.toFixed(0)
  if (Math.abs(value) >= 10) return value.toFixed(1)
  return value.toFixed(2)
}

function header(result: RunResult): string[] {
  const refs = result.options.targets.filter((t) => t !== SUBJECT_ID)
  return ['workload', 'N', 'metric', ...result.options.targets, ...refs.map((r) => `${SUBJECT_ID}/${r}`), 'flags']
}

function cells(result: RunResult, row: Row): string[] {
  const refs = result.options.targets.filter((t) => t !== SUBJECT_ID)
  const spread = (cell: Cell | undefined): string =>
    cell === undefined ? 'n/a' : `${format(cell.median, row.unit)}${cell.samples > 1 ? ` (${format(cell.min, row.unit)}–${format(cell.max, row.unit)})` : ''}`
  return [
    row.workload,
    String(row.connections),
    `${row.metric} (${row.unit})`,
    ...result.options.targets.map((t) => spread(row.values[t])),
    ...refs.map((r) => (row.ratios[r] === undefined ? 'n/a' : `${row.ratios[r]!.toFixed(2)}×`)),
    row.flags.join(', '),
  ]
}

/** A fixed-width table for the terminal. */
export function textTable(result: RunResult, rows: Row[]): string {
  return textGrid(header(result), rows.map((row) => cells(result, row)))
}

export function markdownTable(result: RunResult, rows: Row[]): string {
  return markdownGrid(header(result), rows.map((row) => cells(result, row)))
}

export function machineLine(result: RunResult): string {
  const m = result.machine
  return (
    `${m.cpuModel}, ${m.cores} cores, Linux ${m.kernel}, Node ${m.node}, ${m.versions['nats-server']}; ` +
    `commit ${m.commit.slice(0, 12)}${m.dirty ? ' + uncommitted changes' : ''}; ${m.placement}; ` +
    `load average ${m.loadAverage.start.map((x) => x.toFixed(2)).join(' ')} at start, ${(m.loadAverage.end ?? []).map((x) => x.toFixed(2)).join(' ')} at end; ` +
    `calibration drift ${result.calibration.driftPercent?.toFixed(1) ?? '?'}%`
  )
}
