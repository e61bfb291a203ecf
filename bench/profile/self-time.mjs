// Self time per function in a V8 .cpuprofile (the first one in the folder): node self-time.mjs <dir> [rows]
import fs from 'node:fs'
const dir = process.argv[2]
const file = fs.readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
const prof = JSON.parse(fs.readFileSync(`${dir}/${file}`))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const self = new Map()
const dt = prof.timeDeltas; let total = 0
const counts = new Map()
for (let i = 0; i < prof.samples.length; i++) counts.set(prof.samples[i], (counts.get(prof.samples[i]) ?? 0) + (dt[i] ?? 0))
for (const [id, t] of counts) {
  const n = byId.get(id); const cf = n.callFrame
  const key = `${cf.functionName || '(anon)'} ${cf.url.replace(/.*\/(node_modules\/)?/, '')}:${cf.lineNumber}`
  self.set(key, (self.get(key) ?? 0) + t); total += t
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 40))
for (const [k, t] of rows) console.log((t / total * 100).toFixed(1).padStart(5) + '%  ' + k)
