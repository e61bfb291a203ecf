/**
 * The run's chart, drawn here (no dependency): broadcast deliveries/s at max rate and p99 latency
 * against connection count for every target, and below them the targets as bars, each scaled
 * so that 1 is the target (right of the line: met).
 */
import type { RunResult } from './bench.js'
import type { GoalCheck } from './goals.js'
import type { Row } from './report.js'
import { format } from './report.js'

const COLORS: Record<string, string> = { imservice: '#d1495b', 'ws-floor': '#00798c', 'socketio-redis': '#edae49', 'nats-ws': '#30638e' }
const PALETTE = ['#edae49', '#30638e', '#66a182', '#8d6a9f']

/** Two panels against connection count: deliveries/s at max rate, and p99 latency (fixed rate solid, max rate dashed); the goals below. */
export function svgChart(result: RunResult, rows: Row[], checks: readonly GoalCheck[] = []): string {
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
  const goalsHeight = checks.length === 0 ? 0 : 40 + checks.length * 18
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 44 + goalsHeight}" viewBox="0 0 ${2 * W} ${H + 44 + goalsHeight}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(0, 'Broadcast deliveries/s at max rate (higher is better)', '/s', seriesOf('broadcast max rate', 'deliveries/s at the clients', false)),
    panel(W, 'p99 publish→receive, ms (lower is better)', 'ms', [
      ...seriesOf('broadcast 20k deliveries/s', 'latency p99', false),
      ...seriesOf('broadcast max rate', 'latency p99', true),
    ]),
    legend,
    `<text x="${2 * W - 10}" y="${H + 32}" text-anchor="end" fill="#555">right: solid = 20k deliveries/s, dashed = max rate; ${esc(result.mode)} run ${esc(result.startedAt)}</text>`,
    goalBars(checks, H + 44, 2 * W),
    `</svg>`,
    '',
  ].join('\n')
}

/** One bar per checked goal: its score (ratio ÷ target for ≥ goals, target ÷ ratio for ≤ goals) up to 2, the target at 1. */
function goalBars(checks: readonly GoalCheck[], top: number, width: number): string {
  if (checks.length === 0) return ''
  const x0 = 420
  const x1 = width - 130
  const scale = (score: number): number => x0 + ((x1 - x0) * Math.min(score, 2)) / 2
  const out = [
    `<text x="${width / 2}" y="${top + 16}" text-anchor="middle" font-weight="bold">Performance targets: IMService / reference, scaled so the line is the target (longer is better)</text>`,
    `<line x1="${scale(1)}" x2="${scale(1)}" y1="${top + 24}" y2="${top + 30 + checks.length * 18}" stroke="#333" stroke-dasharray="3 3"/>`,
  ]
  checks.forEach((check, i) => {
    const y = top + 30 + i * 18
    const label = `${check.goal}${check.connections === undefined ? '' : ` (N=${check.connections})`} vs ${check.versus}`
    out.push(`<text x="${x0 - 8}" y="${y + 11}" text-anchor="end">${esc(label)}</text>`)
    if (check.value === undefined || check.met === undefined) {
      out.push(`<text x="${x0 + 4}" y="${y + 11}" fill="#888">not measured</text>`)
      return
    }
    const bound = Number(check.target.replace(/[^0-9.]/g, ''))
    const score = check.target.startsWith('≥') ? check.value / bound : bound / check.value
    const shown = check.versus === 'absolute' ? `${format(check.value, 'ms')} ms` : `${check.value.toFixed(2)}×`
    out.push(`<rect x="${x0}" y="${y + 2}" width="${(scale(score) - x0).toFixed(1)}" height="12" fill="${check.met ? '#66a182' : '#d1495b'}"${check.noisy ? ' fill-opacity="0.5"' : ''}/>`)
    out.push(`<text x="${(scale(score) + 4).toFixed(1)}" y="${y + 11}">${esc(`${shown} (target ${check.target})`)}</text>`)
  })
  return out.join('\n')
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
