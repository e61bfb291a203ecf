/**
 * `npm run bench` (full, ~16 min) or `npm run bench -- --quick` (< 2 min): measures IMService and the
 * references side by side on this machine and writes bench/results/<time>-<mode>.json and .svg (and
 * a copy as latest.svg), and with --update-docs the results section of docs/performance.md.
 *
 * Options: --quick, --update-docs, --targets imservice,ws-floor,socketio-redis,nats-ws
 * Every run is bounded: a hard deadline ends it (exit 2) and all child processes are killed by pid.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defaultOptions, runBench } from './lib/bench.js'
import type { RunResult } from './lib/bench.js'
import { killAll, pinPid, placement } from './lib/procs.js'
import { svgChart } from './lib/chart.js'
import { countRows, countsMarkdown, countsText } from './lib/counts.js'
import { checkGoals, goalsMarkdown, goalsText } from './lib/goals.js'
import { machineLine, markdownTable, summarize, textTable } from './lib/report.js'
import { TARGETS } from './lib/targets.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const RESULTS = `${ROOT}bench/results/`
const DOC = `${ROOT}docs/performance.md`
const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

const args = process.argv.slice(2)
const unknown = args.filter((a) => !['--quick', '--update-docs', '--targets'].includes(a) && !a.startsWith('--targets=') && args[args.indexOf(a) - 1] !== '--targets')
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown option(s) ${unknown.join(' ')}\nusage: npm run bench [-- --quick] [--update-docs] [--targets imservice,ws-floor,socketio-redis,nats-ws]\n`)
  process.exit(64)
}
const mode = args.includes('--quick') ? 'quick' : 'full'
const targetArg = args.find((a) => a.startsWith('--targets='))?.slice('--targets='.length) ?? (args.includes('--targets') ? args[args.indexOf('--targets') + 1] : undefined)
const targets = targetArg ? TARGETS.filter((t) => targetArg.split(',').includes(t.id)) : TARGETS
if (!targets.some((t) => t.id === 'imservice')) {
  process.stderr.write('bench: the imservice target is required (every figure is a ratio to it)\n')
  process.exit(64)
}

// quick must finish in 2 minutes; full takes ~16 (686 s before the 10k broadcast point). The bound is always there.
const DEADLINE_MS = mode === 'quick' ? 150_000 : 20 * 60_000
const deadline = setTimeout(() => {
  process.stderr.write(`bench: the run exceeded its ${DEADLINE_MS / 1000} s bound; stopping everything\n`)
  killAll()
  process.exit(2)
}, DEADLINE_MS)
deadline.unref()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`bench: ${signal}, stopping every child process\n`)
    killAll()
    process.exit(130)
  })
}

// The orchestrator publishes and runs the official cohort: it belongs on the load core.
pinPid(process.pid, placement().load)

const log = (line: string): void => void process.stdout.write(line + '\n')
try {
  const result = await runBench(defaultOptions(mode, targets), log)
  const rows = summarize(result)
  const goals = checkGoals(rows, result.options.targets)
  const counts = countRows(result)
  const stamp = result.startedAt.replace(/[:.]/g, '-')
  mkdirSync(RESULTS, { recursive: true })
  const jsonPath = `${RESULTS}${stamp}-${mode}.json`
  writeFileSync(jsonPath, JSON.stringify({ ...result, summary: rows, goals, counts }, null, 2) + '\n')
  const svg = svgChart(result, rows, goals)
  const svgPath = `${RESULTS}${stamp}-${mode}.svg`
  writeFileSync(svgPath, svg)
  writeFileSync(`${RESULTS}latest.svg`, svg)
  log('')
  log(textTable(result, rows))
  log('')
  log(countsText(counts))
  log('')
  log(goalsText(goals))
  log('')
  log(machineLine(result))
  for (const note of result.notes) log(`note: ${note}`)
  log(`wrote ${jsonPath.slice(ROOT.length)}, ${svgPath.slice(ROOT.length)} (and latest.svg) in ${result.seconds?.toFixed(0)} s`)
  if (args.includes('--update-docs')) {
    const tables = [markdownTable(result, rows), '', 'The performance targets, checked:', '', goalsMarkdown(goals), '', 'The counts behind the figures (summed over repetitions):', '', countsMarkdown(counts)].join('\n')
    updateDocs(result, tables, jsonPath.slice(ROOT.length), svgPath.slice(ROOT.length))
    log('updated docs/performance.md')
  }
  const incomplete = rows.filter((r) => r.flags.some((f) => f.endsWith('incomplete')))
  const unmet = goals.filter((g) => g.met === false)
  log(`targets: ${goals.filter((g) => g.met).length} met, ${unmet.length} not met, ${goals.filter((g) => g.met === undefined).length} not measured`)
  if (incomplete.length > 0) {
    log(`INCOMPLETE deliveries or connections in ${incomplete.length} row(s): see the flags column and the JSON`)
    process.exitCode = 1
  }
} catch (error) {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exitCode = 1
} finally {
  killAll()
  clearTimeout(deadline)
}

/** Rewrites the results section of docs/performance.md; it links this run's own JSON and chart, which later runs leave alone. */
function updateDocs(result: RunResult, table: string, jsonPath: string, svgPath: string): void {
  const doc = readFileSync(DOC, 'utf8')
  const from = doc.indexOf(START)
  const to = doc.indexOf(END)
  if (from < 0 || to < from) throw new Error(`docs/performance.md lacks the ${START} ... ${END} markers`)
  const section = [
    START,
    `Latest run: \`npm run bench${result.mode === 'quick' ? ' -- --quick' : ''}\`, ${result.startedAt}, ${result.seconds?.toFixed(0)} s ([JSON](../${jsonPath})).`,
    '',
    `Machine: ${machineLine(result)}.`,
    '',
    table,
    '',
    ...result.notes.map((n) => `- ${n}`),
    '',
    `![deliveries/s and p99 latency against connections](../${svgPath})`,
    END,
  ].join('\n')
  writeFileSync(DOC, doc.slice(0, from) + section + doc.slice(to + END.length))
}
