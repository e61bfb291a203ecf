// Micro-benchmark for the JSON writer's value encoding (src/protocol/wire-json.ts): plain
// JSON.stringify (the old writer, which got bytes wrong), JSON.stringify with the replacer on every
// call, and what the writer does (a scan, then the replacer only when bytes are present); then the
// node-to-node envelope (the typed-value list plus the writer). Prints ns per call and the ratio
// to plain JSON.stringify in the same run.
//   node --import tsx bench/profile/wire-json.ts
import { findTypedValues } from '../../src/lifetime/typed-values.js'
import { stringifyWireValue } from '../../src/protocol/wire-json.js'

const chat = { id: 'm-1', text: 'hello there, a message of a typical length', author: { id: 'u-1', displayName: 'Ada', since: new Date(0) }, tags: ['a', 'b'], reactions: { like: 2 }, edited: false }
const table = Array.from({ length: 200 }, (_, i) => ({ row: i, name: `item ${i}`, price: i * 1.5, stock: i % 7, active: i % 2 === 0 }))
const numbers = Array.from({ length: 5000 }, (_, i) => i)
const withBytes = { ...chat, thumbnail: new Uint8Array(256).fill(7) }

function replacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  return original instanceof Uint8Array ? 'x' : value
}

function time(fn: () => unknown, budgetMs = 300): number {
  for (let i = 0; i < 200; i++) fn()
  let runs = 0
  const start = process.hrtime.bigint()
  const end = start + BigInt(budgetMs) * 1_000_000n
  let now = start
  while (now < end) {
    for (let i = 0; i < 100; i++) fn()
    runs += 100
    now = process.hrtime.bigint()
  }
  return Number(now - start) / runs
}

for (const [name, value] of [['chat message', [chat, 'lobby']], ['200-row table', [table]], ['5,000 numbers', [numbers]], ['chat message + 256 B bytes', [withBytes]]] as const) {
  const plain = time(() => JSON.stringify(value))
  const always = time(() => JSON.stringify(value, replacer))
  const writer = time(() => stringifyWireValue(value))
  const envelope = time(() => {
    const typed = findTypedValues(value)
    const envelope = { kind: 'send', method: 'm', args: value, ...(typed.paths.length > 0 ? { typed: typed.paths } : {}) }
    return typed.complete && typed.paths.length === 0 ? JSON.stringify(envelope) : stringifyWireValue(envelope)
  })
  const row = (label: string, ns: number): string => `${label} ${ns.toFixed(0).padStart(8)} ns  x${(ns / plain).toFixed(2)}`
  console.log(`${name}:\n  ${row('JSON.stringify         ', plain)}\n  ${row('with replacer always   ', always)}\n  ${row('scan + replacer if bytes', writer)}\n  ${row('node-to-node envelope   ', envelope)}`)
}
