// Who calls a function in a V8 .cpuprofile, `depth` frames up: node callers.mjs <dir> <function-name-prefix> [depth]
import fs from 'node:fs'
const [dir, name, depth = 4] = process.argv.slice(2)
const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
const prof = JSON.parse(fs.readFileSync(`${dir}/${file}`))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const t = new Map(); const dt = prof.timeDeltas
for (let i = 0; i < prof.samples.length; i++) t.set(prof.samples[i], (t.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0))
const label = (n) => `${n.callFrame.functionName || '(anon)'}@${n.callFrame.url.replace(/.*\//, '')}:${n.callFrame.lineNumber}`
const stacks = new Map(); let tot = 0
for (const [id, time] of t) {
  const n = byId.get(id)
  if (!label(n).startsWith(name)) continue
  let chain = []; let p = parent.get(id)
  for (let d = 0; d < Number(depth) && p !== undefined; d++) { chain.push(label(byId.get(p))); p = parent.get(p) }
  const k = chain.join(' <- '); stacks.set(k, (stacks.get(k) ?? 0) + time); tot += time
}
for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log((v / 1000).toFixed(0).padStart(6) + 'ms ' + k)
console.log('total', (tot / 1000).toFixed(0), 'ms')
