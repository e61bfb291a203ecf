/**
 * A unified diff of two texts, line by line, for `im generate --check` (kysely-codegen's
 * DiffChecker prints one per stale file). Common prefix and suffix are trimmed first, so the LCS
 * table only covers the changed middle; a middle too large for it is shown as replaced whole.
 */

type Op = readonly [' ' | '-' | '+', string]

const MAX_CELLS = 4_000_000

function lines(text: string): string[] {
  if (text.length === 0) return []
  const all = text.split('\n')
  // A final newline ends the last line rather than starting an empty one.
  if (all[all.length - 1] === '') all.pop()
  return all
}

function diffLines(a: readonly string[], b: readonly string[]): Op[] {
  let start = 0
  while (start < a.length && start < b.length && a[start] === b[start]) start++
  let endA = a.length
  let endB = b.length
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--
    endB--
  }
  const midA = a.slice(start, endA)
  const midB = b.slice(start, endB)
  const ops: Op[] = a.slice(0, start).map((l) => [' ', l] as const)
  if ((midA.length + 1) * (midB.length + 1) > MAX_CELLS) {
    ops.push(...midA.map((l) => ['-', l] as const), ...midB.map((l) => ['+', l] as const))
  } else {
    ops.push(...lcsOps(midA, midB))
  }
  ops.push(...a.slice(endA).map((l) => [' ', l] as const))
  return ops
}

function lcsOps(a: readonly string[], b: readonly string[]): Op[] {
  const width = b.length + 1
  const table = new Uint32Array((a.length + 1) * width)
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      table[i * width + j] = a[i] === b[j] ? table[(i + 1) * width + j + 1]! + 1 : Math.max(table[(i + 1) * width + j]!, table[i * width + j + 1]!)
    }
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      ops.push([' ', a[i]!])
      i++
      j++
    } else if (table[(i + 1) * width + j]! >= table[i * width + j + 1]!) ops.push(['-', a[i++]!])
    else ops.push(['+', b[j++]!])
  }
  while (i < a.length) ops.push(['-', a[i++]!])
  while (j < b.length) ops.push(['+', b[j++]!])
  return ops
}

/** `--- a/<name>` / `+++ b/<name>` and hunks with `context` lines around each change; '' when equal. */
export function unifiedDiff(before: string, after: string, name: string, context = 3): string {
  if (before === after) return ''
  const ops = diffLines(lines(before), lines(after))
  const changed = ops.map((op, i) => (op[0] === ' ' ? -1 : i)).filter((i) => i >= 0)
  const out = [before === '' ? '--- /dev/null' : `--- a/${name}`, after === '' ? '+++ /dev/null' : `+++ b/${name}`]
  let k = 0
  while (k < changed.length) {
    const first = Math.max(0, changed[k]! - context)
    let last = Math.min(ops.length - 1, changed[k]! + context)
    while (k + 1 < changed.length && changed[k + 1]! - context <= last + 1) {
      k++
      last = Math.min(ops.length - 1, changed[k]! + context)
    }
    k++
    const before0 = ops.slice(0, first).filter((op) => op[0] !== '+').length
    const after0 = ops.slice(0, first).filter((op) => op[0] !== '-').length
    const hunk = ops.slice(first, last + 1)
    const oldCount = hunk.filter((op) => op[0] !== '+').length
    const newCount = hunk.filter((op) => op[0] !== '-').length
    out.push(`@@ -${oldCount === 0 ? before0 : before0 + 1},${oldCount} +${newCount === 0 ? after0 : after0 + 1},${newCount} @@`)
    out.push(...hunk.map(([sign, line]) => `${sign}${line}`))
  }
  // End with a newline, so the diff itself never ends mid-line.
  return out.join('\n') + '\n'
}
