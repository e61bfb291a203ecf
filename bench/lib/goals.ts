/**
 * The performance targets (docs/performance.md), checked against a run's rows: for each row a target names, the ratio
 * IMService / reference (or IMService's own figure, for the absolute p99 bound), the target, and
 * whether it was met. A goal whose row or reference is missing from the run is listed as not
 * measured rather than left out.
 */
import type { Row } from './report.js'
import { SUBJECT_ID, format } from './report.js'
import { markdownGrid, textGrid } from './grid.js'

export interface Goal {
  /** Picks the rows the goal applies to (a workload may have several N). */
  readonly rows: (row: Row) => boolean
  readonly label: string
  /** A reference id, or `absolute` for a bound on IMService's own figure. */
  readonly versus: string
  readonly op: '>=' | '<='
  readonly bound: number
}

export interface GoalCheck {
  readonly goal: string
  readonly connections?: number
  readonly versus: string
  /** The ratio (or IMService's figure, for an absolute goal); undefined when not measured. */
  readonly value?: number
  readonly target: string
  readonly met?: boolean
  readonly noisy: boolean
}

const is = (workload: string | RegExp, metric: string) => (row: Row) =>
  (typeof workload === 'string' ? row.workload === workload : workload.test(row.workload)) && row.metric === metric

/** The targets, row by row. The idle goal is stated at 10k; a run checks its largest idle N. */
export const GOALS: readonly Goal[] = [
  { rows: is('idle', 'server RSS per connection'), label: 'idle: server RSS per connection', versus: 'ws-floor', op: '<=', bound: 1.5 },
  { rows: is('idle', 'server RSS per connection'), label: 'idle: server RSS per connection', versus: 'socketio-redis', op: '<=', bound: 0.6 },
  { rows: is('broadcast max rate', 'deliveries/s at the clients'), label: 'broadcast max rate: deliveries/s', versus: 'nats-ws', op: '>=', bound: 1.0 },
  { rows: is('broadcast max rate', 'deliveries/s at the clients'), label: 'broadcast max rate: deliveries/s', versus: 'socketio-redis', op: '>=', bound: 2.0 },
  { rows: is(/^broadcast/, 'server CPU per delivery'), label: 'broadcast: server CPU per delivery', versus: 'ws-floor', op: '<=', bound: 1.2 },
  { rows: is(/^broadcast \d+k deliveries/, 'latency p99'), label: 'broadcast at 20k deliveries/s: p99', versus: 'ws-floor', op: '<=', bound: 1.0 },
  { rows: is(/^broadcast \d+k deliveries/, 'latency p99'), label: 'broadcast at 20k deliveries/s: p99', versus: 'socketio-redis', op: '<=', bound: 0.4 },
  { rows: is('targeted max rate', 'messages/s'), label: 'targeted max rate: messages/s', versus: 'ws-floor', op: '>=', bound: 0.8 },
  { rows: is('targeted max rate', 'messages/s'), label: 'targeted max rate: messages/s', versus: 'socketio-redis', op: '>=', bound: 2.0 },
  { rows: is(/^targeted \d+k msgs/, 'latency p99'), label: 'targeted at 5k msgs/s: p99 (ms)', versus: 'absolute', op: '<=', bound: 5 },
  { rows: is('invocations max rate', 'completions/s'), label: 'invocations: completions/s', versus: 'ws-floor', op: '>=', bound: 0.7 },
  { rows: is('churn with JWT', 'connects/s'), label: 'churn with JWT: connects/s incl. negotiate', versus: 'socketio-redis', op: '>=', bound: 1.3 },
]

export function checkGoals(rows: readonly Row[], targets: readonly string[]): GoalCheck[] {
  const checks: GoalCheck[] = []
  for (const goal of GOALS) {
    let matching = rows.filter(goal.rows)
    // Idle: the goal is about the largest point (10k connections), not the small ones.
    if (goal.label.startsWith('idle') && matching.length > 0) matching = [matching.reduce((a, b) => (b.connections > a.connections ? b : a))]
    const target = `${goal.op === '>=' ? '≥' : '≤'} ${goal.bound}${goal.versus === 'absolute' ? '' : '×'}`
    if (matching.length === 0 || (goal.versus !== 'absolute' && !targets.includes(goal.versus))) {
      checks.push({ goal: goal.label, versus: goal.versus, target, noisy: false })
      continue
    }
    for (const row of matching) {
      const value = goal.versus === 'absolute' ? row.values[SUBJECT_ID]?.median : row.ratios[goal.versus]
      const met = value === undefined || !Number.isFinite(value) ? undefined : goal.op === '>=' ? value >= goal.bound : value <= goal.bound
      const noisy = row.flags.some((f) => f.endsWith('noisy') && (f.startsWith(SUBJECT_ID) || f.startsWith(goal.versus)))
      // The row's own name: one goal may cover several rows (broadcast CPU at 20k/s and at max rate).
      checks.push({ goal: `${row.workload}: ${row.metric}`, connections: row.connections, versus: goal.versus, value, target, met, noisy })
    }
  }
  return checks
}

function cells(check: GoalCheck): string[] {
  const value = check.value === undefined ? 'n/a' : check.versus === 'absolute' ? format(check.value, 'ms') : `${check.value.toFixed(2)}×`
  const verdict = check.met === undefined ? 'not measured' : check.met ? 'met' : 'NOT MET'
  return [check.goal, check.connections === undefined ? '' : String(check.connections), check.versus === 'absolute' ? 'IMService alone' : `${SUBJECT_ID}/${check.versus}`, value, check.target, `${verdict}${check.noisy ? ' (noisy)' : ''}`]
}

const HEAD = ['target', 'N', 'ratio', 'value', 'target', 'verdict']

export function goalsText(checks: readonly GoalCheck[]): string {
  return textGrid(HEAD, checks.map(cells))
}

export function goalsMarkdown(checks: readonly GoalCheck[]): string {
  return markdownGrid(HEAD, checks.map(cells))
}
