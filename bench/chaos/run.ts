/**
 * `npm run chaos [-- --quick] [-- --only 1,4] [-- --out <file> | --no-save]`: the chaos suite.
 * Runs each scenario against IMService nodes in their own processes, on loopback only, bounded in
 * count and time, prints the table and exits 1 when a promise failed. A full run writes its JSON
 * to bench/results/chaos-<date>.json (chaos-<date>-only-<ids>.json with --only); a quick one only with --out.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findNatsServer } from '../../test/support/nats-server.js'
import type { ScenarioResult } from './common.js'
import { formatDetails, formatTable } from './report.js'
import { SCENARIOS } from './scenarios.js'

interface Args {
  readonly quick: boolean
  readonly only: readonly string[] | undefined
  readonly out: string | undefined
  readonly save: boolean
}

function parseArgs(argv: readonly string[]): Args {
  let quick = false
  let only: string[] | undefined
  let out: string | undefined
  let save = true
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--quick') quick = true
    else if (arg === '--only') only = (argv[++i] ?? '').split(',').filter(Boolean)
    else if (arg.startsWith('--only=')) only = arg.slice(7).split(',').filter(Boolean)
    else if (arg === '--out') out = argv[++i]
    else if (arg === '--no-save') save = false
    else throw new Error(`unknown argument ${arg} (use --quick, --only 1,2,3,4, --out <file>, --no-save)`)
  }
  return { quick, only, out, save }
}

export function machine(): Record<string, string> {
  let nats = 'unknown'
  try {
    nats = execFileSync(findNatsServer(), ['--version'], { encoding: 'utf8' }).trim()
  } catch {
    // reported as unknown
  }
  return {
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${Math.round(totalmem() / 2 ** 30)} GiB`,
    node: process.version,
    natsServer: nats,
    platform: `${process.platform} ${process.arch}`,
    // Other work on the box skews latency and rates; say how busy it was.
    loadAverage: loadavg().map((l) => l.toFixed(2)).join(' '),
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  // The whole run is bounded: a hung scenario cannot keep it alive (children die with us).
  const hardLimitMs = args.quick ? 90_000 : 600_000
  setTimeout(() => {
    process.stderr.write(`chaos: the run passed its hard limit of ${hardLimitMs / 1000} s; stopping\n`)
    process.exit(2)
  }, hardLimitMs).unref()

  const chosen = SCENARIOS.filter((s) => !args.only || args.only.includes(s.id))
  const started = Date.now()
  const loadAtStart = loadavg()[0]!.toFixed(2)
  const results: ScenarioResult[] = []
  for (const scenario of chosen) {
    process.stdout.write(`chaos: scenario ${scenario.id} (${scenario.name})...\n`)
    results.push(await scenario.run(args.quick))
  }
  const command = `npm run chaos${args.quick || args.only ? ' --' : ''}${args.quick ? ' --quick' : ''}${args.only ? ` --only ${args.only.join(',')}` : ''}`
  process.stdout.write(`\n${formatTable(results)}\n${formatDetails(results)}\n`)
  const info: Record<string, string> = { ...machine(), loadAverageAtStart: loadAtStart }
  process.stdout.write(`\nmachine: ${info.cpus}, ${info.memory}, node ${info.node}, ${info.natsServer}, load average ${info.loadAverageAtStart} at the start, ${info.loadAverage} at the end; ${((Date.now() - started) / 1000).toFixed(0)} s; ${command}\n`)

  // A run of some scenarios is named after them, so that it does not replace a full run of the day.
  const name = `chaos-${new Date().toISOString().slice(0, 10)}${args.only ? `-only-${args.only.join('-')}` : ''}.json`
  const out = args.out ?? (args.save && !args.quick ? fileURLToPath(new URL(`../results/${name}`, import.meta.url)) : undefined)
  if (out) {
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), command, machine: info, results }, null, 2) + '\n')
    process.stdout.write(`results: ${out}\n`)
  }
  process.exit(results.every((r) => r.pass) ? 0 : 1)
}

await main()
