/** The table the chaos suite prints, and the checks behind each PASS/FAIL. */
import { mb } from './common.js'
import type { ScenarioResult } from './common.js'

const num = (value: number | undefined): string => (value === undefined ? '-' : String(value))

export function formatTable(results: readonly ScenarioResult[]): string {
  const header = ['#', 'scenario', 'published', 'delivered', 'lost', 'dup', 'RSS before / max / after MB', 'heap before / after MB', 'result']
  const rows = results.map((r) => [
    r.id,
    r.name,
    num(r.published),
    num(r.delivered),
    num(r.lost),
    num(r.duplicated),
    `${mb(r.memory.before.rss)} / ${mb(r.memory.maxRss)} / ${mb(r.memory.after.rss)}`,
    `${mb(r.memory.before.heapUsed)} / ${mb(r.memory.after.heapUsed)}`,
    r.pass ? 'PASS' : 'FAIL',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n')
}

export function formatDetails(results: readonly ScenarioResult[]): string {
  const out: string[] = []
  for (const r of results) {
    out.push(`\n${r.id}. ${r.name} (${r.seconds.toFixed(1)} s)`)
    for (const c of r.checks) out.push(`   ${c.ok ? 'ok  ' : 'FAIL'} ${c.promise}: ${c.seen}`)
    for (const [key, value] of Object.entries(r.details)) if (value !== undefined) out.push(`   ${key}: ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    out.push(`   fds before/after: ${r.memory.before.fds} / ${r.memory.after.fds}`)
  }
  return out.join('\n')
}
