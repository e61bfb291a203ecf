import { describe, expect, it } from 'vitest'
import { findTypedValues, restoreTypedValues } from '../../../src/lifetime/typed-values.js'
import { stringifyWireValue } from '../../../src/protocol/wire-json.js'

const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))

/** What the node-to-node hop does: JSON with the list, parsed on the other side and restored. */
function hop(args: unknown[]): unknown[] {
  const typed = findTypedValues(args).paths
  const parsed = JSON.parse(stringifyWireValue({ args, typed })!) as { args: unknown[]; typed: unknown }
  restoreTypedValues(parsed.args, parsed.typed)
  return parsed.args
}

describe('typed values across the node-to-node hop', () => {
  it('finds nothing in plain data, so most messages carry no list', () => {
    expect(findTypedValues(['x', 1, { a: [null, { b: 'c' }] }])).toEqual({ paths: [], complete: true })
  })

  it('brings Dates and Uint8Arrays back where they were', () => {
    const args = [at, { file: { data: Uint8Array.of(0, 1, 2, 250, 255), at }, list: [Buffer.from('hi'), 'plain'] }, new Uint8Array(0)]
    expect(findTypedValues(args).paths).toEqual([['date', 0], ['bytes', 1, 'file', 'data'], ['date', 1, 'file', 'at'], ['bytes', 1, 'list', 0], ['bytes', 2]])
    const restored = hop(args)
    expect(restored).toEqual([at, { file: { data: Uint8Array.of(0, 1, 2, 250, 255), at }, list: [new Uint8Array(Buffer.from('hi')), 'plain'] }, new Uint8Array(0)])
    expect(restored[0]).toBeInstanceOf(Date)
  })

  it('says when a value nests deeper than it follows', () => {
    let deep: unknown = 'leaf'
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(findTypedValues([deep, at])).toEqual({ paths: [['date', 1]], complete: false })
  })

  it('ignores a hostile or stale list: no throw, no prototype reached, wrong forms left as strings', () => {
    const args = JSON.parse('[{"s":"not base64!","d":"not a date","n":5,"o":{}}]') as unknown[]
    const list = [['date', 0, '__proto__', 'toString'], ['date', 0, 'o', '__proto__'], ['date', 0, 'constructor', 'name'], ['bytes', 0, 's'], ['date', 0, 'd'], ['bytes', 0, 'n'], ['date', 9, 'x'], ['other', 0, 'd'], 'junk', [], ['date']]
    restoreTypedValues(args, list)
    restoreTypedValues(args, { not: 'a list' })
    expect(({} as Record<string, unknown>).x).toBeUndefined()
    expect(typeof Object.prototype.toString).toBe('function')
    expect(args).toEqual([{ s: 'not base64!', d: 'not a date', n: 5, o: {} }])
  })
})
