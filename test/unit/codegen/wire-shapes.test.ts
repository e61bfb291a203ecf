/** Where generated code turns Dates and bytes back: only where a type holds them, and never where a string could be meant. */
import { describe, expect, it } from 'vitest'
import type { TypeDeclaration, TypeRef } from '../../../src/codegen/model.js'
import { printShape, WireShapes } from '../../../src/codegen/wire-shapes.js'

const string: TypeRef = { kind: 'primitive', name: 'string' }
const date: TypeRef = { kind: 'date' }
const bytes: TypeRef = { kind: 'bytes' }
const types: Record<string, TypeDeclaration> = {
  Node: { kind: 'interface', name: 'Node', file: 'x.ts', properties: [{ name: 'at', type: date }, { name: 'children', type: { kind: 'array', element: { kind: 'ref', name: 'Node' } } }] },
  Plain: { kind: 'interface', name: 'Plain', file: 'x.ts', properties: [{ name: 'id', type: string }] },
  Box: { kind: 'interface', name: 'Box', file: 'x.ts', typeParameters: ['T'], properties: [{ name: 'value', type: { kind: 'typeParameter', name: 'T' } }] },
  Mood: { kind: 'enum', name: 'Mood', file: 'x.ts', members: [{ name: 'Happy', value: 'happy' }] },
}

describe('WireShapes', () => {
  it('has no shape for types without dates or bytes, so their files carry no runtime', () => {
    const shapes = new WireShapes(types)
    expect(shapes.of({ kind: 'ref', name: 'Plain' })).toBeUndefined()
    expect(shapes.of({ kind: 'tuple', elements: [{ type: string }, { type: { kind: 'ref', name: 'Mood' } }] })).toBeUndefined()
    expect(shapes.table()).toEqual([])
  })

  it('names recursive types once in the table', () => {
    const shapes = new WireShapes(types)
    expect(shapes.of({ kind: 'ref', name: 'Node' })).toEqual({ ref: 'Node' })
    expect(shapes.table().map(([name, shape]) => `${name}: ${printShape(shape)}`)).toEqual(["Node: { props: { at: 'date', children: { array: { ref: 'Node' } } } }"])
  })

  it('expands generic types with their arguments', () => {
    const shapes = new WireShapes(types)
    expect(shapes.of({ kind: 'ref', name: 'Box', args: [bytes] })).toEqual({ props: { value: 'bytes' } })
    expect(shapes.of({ kind: 'ref', name: 'Box', args: [string] })).toBeUndefined()
  })

  it('leaves a string as it came where the union also admits a string: the wire cannot tell them apart', () => {
    const shapes = new WireShapes(types)
    expect(shapes.of({ kind: 'union', types: [date, { kind: 'primitive', name: 'null' }] })).toBe('date')
    expect(shapes.of({ kind: 'union', types: [date, string] })).toBeUndefined()
    expect(shapes.of({ kind: 'union', types: [bytes, { kind: 'ref', name: 'Mood' }] })).toBeUndefined()
    expect(shapes.of({ kind: 'union', types: [{ kind: 'array', element: date }, string] })).toEqual({ array: 'date' })
  })

  it('tells which shapes reach bytes: only those are converted on send', () => {
    const shapes = new WireShapes(types)
    expect(shapes.holdsBytes(shapes.of({ kind: 'ref', name: 'Node' })!)).toBe(false)
    expect(shapes.holdsBytes(shapes.of({ kind: 'tuple', elements: [{ type: string }, { type: { kind: 'array', element: bytes } }] })!)).toBe(true)
  })
})
