/**
 * What a run shows: medians per target across repetitions, the IMService / reference ratio, flags
 * for incomplete deliveries and noisy figures; as a table on stdout, as Markdown for
 * docs/performance.md, and as an SVG chart drawn here (no dependency).
 */
import type { RunResult, TargetRun } from './bench.js'

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

interface Metric {
  readonly workload: string
  readonly metric: string
  readonly unit: string
  /** Rows of one run: (connections, value, complete) for each point of this metric. */
  readonly pick: (run: TargetRun) => Array<{ connections: number; value: number | undefined; complete: boolean }>
}

const KB = 1024
const METRICS: Metric[] = [
  {
    workload: 'idle',
    metric: 'server RSS per connection',
    unit: 'KB',
    pick: (run) => run.idle.map((r) => ({ connections: r.connections, value: r.rssPerConnection / KB, complete: r.serverCounted === r.connections && r.failed === 0 })),
  },
  {
    workload: 'idle',
    metric: 'server heap per connection',
    unit: 'KB',
    pick: (run) =>
      run.idle.map((r) => ({
        connections: r.connections,
        value: r.heapPerConnection === undefined ? undefined : r.heapPerConnection / KB,
        complete: r.serverCounted === r.connections && r.failed === 0,
      })),
  },
  ...(['fixed', 'max'] as const).flatMap((mode): Metric[] => {
    const workload = mode === 'fixed' ? 'broadcast 20k deliveries/s' : 'broadcast max rate'
    const of = (run: TargetRun) => run.broadcast.filter((b) => b.spec.mode === mode)
    const metric = (metric: string, unit: string, value: (b: TargetRun['broadcast'][number]) => number): Metric => ({
      workload,
      metric,
      unit,
      pick: (run) => of(run).map((b) => ({ connections: b.connections, value: value(b), complete: b.complete })),
    })
    return [
      ...(mode === 'max' ? [metric('deliveries/s at the clients', '/s', (b) => b.deliveriesPerSecond)] : []),
      metric('latency p50', 'ms', (b) => b.latencyMs.p50),
      metric('latency p99', 'ms', (b) => b.latencyMs.p99),
      metric('latency max', 'ms', (b) => b.latencyMs.max),
      metric('server CPU per delivery', 'µs', (b) => b.serverMicrosPerDelivery),
      metric('server CPU', '%', (b) => b.serverCpuPercent),
      // Everything that ran on the server's core, other people's work included: near 100% while the
      // server's own share is low means it was starved, and its figures say more about the machine.
      metric('server core busy, all processes', '%', (b) => b.serverCoreBusyPercent ?? Number.NaN),
      // The other side of the machine: workers, cohort, publisher and nats-server, in % of one core.
      metric('load-side CPU', '%', (b) => (b.loadCpuSeconds / b.seconds) * 100),
    ]
  }),
]

export function summarize(result: RunResult): Row[] {
  const targets = result.options.targets
  const rows: Row[] = []
  for (const metric of METRICS) {
    const points = new Map<number, Map<string, Array<{ value: number | undefined; complete: boolean }>>>()
    for (const run of result.runs) {
      for (const p of metric.pick(run)) {
        // Broadcast points are keyed by the planned count; idle by what opened (the plan, unless failures).
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
  const lines = [header(result), ...rows.map((row) => cells(result, row))]
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => (l[i] ?? '').length)))
  const fmt = (l: string[]): string => l.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()
  return [fmt(lines[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.slice(1).map(fmt)].join('\n')
}

export function markdownTable(result: RunResult, rows: Row[]): string {
  const head = header(result)
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${cells(result, row).join(' | ')} |`)].join('\n')
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

const COLORS: Record<string, string> = { imservice: '#d1495b', 'ws-floor': '#00798c', 'socketio-redis': '#edae49' }
const PALETTE = ['#edae49', '#30638e', '#66a182', '#8d6a9f']

/** Two panels against connection count: deliveries/s at max rate, and p99 latency (fixed rate solid, max rate dashed). */
export function svgChart(result: RunResult, rows: Row[]): string {
  const targets = result.options.targets
  const color = (id: string, i: number): string => COLORS[id] ?? PALETTE[i % PALETTE.length]!
  const find = (workload: string, metric: string) => rows.filter((r) => r.workload === workload && r.metric === metric)
  const counts = [...new Set(rows.filter((r) => r.workload.startsWith('broadcast')).map((r) => r.connections))].sort((a, b) => a - b)
  const W = 460
  const H = 300
  const M = { left: 64, right: 16, top: 40, bottom: 46 }
  const panel = (
    x0: number,
    title: string,
    unit: string,
    series: Array<{ id: string; i: number; dashed: boolean; points: Array<[number, number]> }>,
  ): string => {
    const maxY = niceCeiling(Math.max(1e-9, ...series.flatMap((s) => s.points.map((p) => p[1]))) * 1.1)
    const px = (n: number): number => {
      const k = counts.indexOf(n)
      return counts.length <= 1 ? x0 + M.left + (W - M.left - M.right) / 2 : x0 + M.left + 20 + (k * (W - M.left - M.right - 40)) / (counts.length - 1)
    }
    const py = (v: number): number => M.top + (H - M.top - M.bottom) * (1 - v / maxY)
    const out: string[] = [`<text x="${x0 + W / 2}" y="20" text-anchor="middle" font-weight="bold">${esc(title)}</text>`]
    for (let t = 0; t <= 4; t++) {
      const v = (maxY / 4) * t
      out.push(`<line x1="${x0 + M.left}" x2="${x0 + W - M.right}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`)
      out.push(`<text x="${x0 + M.left - 6}" y="${py(v) + 4}" text-anchor="end">${esc(format(v, unit))}</text>`)
    }
    for (const n of counts) out.push(`<text x="${px(n)}" y="${H - M.bottom + 18}" text-anchor="middle">${n}</text>`)
    out.push(`<text x="${x0 + W / 2}" y="${H - 8}" text-anchor="middle">connections</text>`)
    for (const s of series) {
      const pts = s.points.map(([n, v]) => `${px(n).toFixed(1)},${py(v).toFixed(1)}`)
      if (pts.length > 1) out.push(`<polyline fill="none" stroke="${color(s.id, s.i)}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`)
      for (const [n, v] of s.points) {
        out.push(`<circle cx="${px(n).toFixed(1)}" cy="${py(v).toFixed(1)}" r="4" fill="${s.dashed ? 'white' : color(s.id, s.i)}" stroke="${color(s.id, s.i)}" stroke-width="2"/>`)
        out.push(`<text x="${(px(n) + 7).toFixed(1)}" y="${(py(v) - 6).toFixed(1)}" fill="${color(s.id, s.i)}">${esc(format(v, unit))}</text>`)
      }
    }
    return out.join('\n')
  }
  const seriesOf = (workload: string, metric: string, dashed: boolean) =>
    targets.map((id, i) => ({
      id,
      i,
      dashed,
      points: find(workload, metric)
        .filter((r) => r.values[id])
        .map((r): [number, number] => [r.connections, r.values[id]!.median]),
    }))
  const legend = targets
    .map((id, i) => `<rect x="${20 + i * 150}" y="${H + 8}" width="14" height="4" fill="${color(id, i)}"/><text x="${40 + i * 150}" y="${H + 14}">${esc(id)}</text>`)
    .join('\n')
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 44}" viewBox="0 0 ${2 * W} ${H + 44}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Broadcast deliveries/s at max rate (higher is better)', '/s', seriesOf('broadcast max rate', 'deliveries/s at the clients', false)),
    panel(W, 'p99 publish→receive, ms (lower is better)', 'ms', [
      ...seriesOf('broadcast 20k deliveries/s', 'latency p99', false),
      ...seriesOf('broadcast max rate', 'latency p99', true),
    ]),
    legend,
    `<text x="${2 * W - 10}" y="${H + 14}" text-anchor="end" fill="#555">right: solid = 20k deliveries/s, dashed = max rate; ${esc(result.mode)} run ${esc(result.startedAt)}</text>`,
    `</svg>`,
    '',
  ].join('\n')
}

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `value`, so the four grid steps read as round numbers. */
function niceCeiling(value: number): number {
  const step = value / 4
  const magnitude = 10 ** Math.floor(Math.log10(step))
  const nice = [1, 2, 2.5, 5, 10].find((m) => m * magnitude >= step) ?? 10
  return nice * magnitude * 4
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
