/**
 * Where Dates and Uint8Arrays sit in a type, for the generated TypeScript: over JSON they travel
 * as ISO 8601 and base64 strings, so generated code turns them back on receipt (and writes bytes
 * as base64 on send) by following these shapes. A shape is undefined where a type holds neither,
 * which is most types, so most generated files carry none of this.
 */
import type { TypeDeclaration, TypeRef } from './model.js'
import { propertyKey, tsString } from './names.js'
import { substitute } from './type-table.js'

export type WireShape =
  | 'date'
  | 'bytes'
  | { readonly array: WireShape }
  | { readonly tuple: readonly (WireShape | 0)[]; readonly rest?: WireShape }
  | { readonly props: Readonly<Record<string, WireShape>>; readonly extra?: WireShape }
  | { readonly ref: string }
  | { readonly union: readonly WireShape[] }

/** Generic types are expanded where used; this bounds recursion through them. */
const MAX_EXPANSION = 8

export class WireShapes {
  /** Shapes of the named, non-generic types that hold a Date or Uint8Array. */
  private readonly named = new Map<string, WireShape | undefined>()
  private readonly pending = new Set<string>()

  constructor(private readonly types: Readonly<Record<string, TypeDeclaration>>) {}

  of(type: TypeRef, depth = 0): WireShape | undefined {
    switch (type.kind) {
      case 'date':
      case 'bytes':
        return type.kind
      case 'array': {
        const element = this.of(type.element, depth)
        return element && { array: element }
      }
      case 'tuple': {
        const fixed = type.elements.filter((e) => !e.rest).map((e) => this.of(e.type, depth))
        const restType = type.elements.find((e) => e.rest)?.type
        const rest = restType?.kind === 'array' ? this.of(restType.element, depth) : undefined
        if (!rest && fixed.every((s) => s === undefined)) return undefined
        return { tuple: fixed.map((s) => s ?? 0), ...(rest ? { rest } : {}) }
      }
      case 'object': {
        const props: Record<string, WireShape> = {}
        for (const p of type.properties) {
          const shape = this.of(p.type, depth)
          if (shape) props[p.name] = shape
        }
        const extra = type.additional && this.of(type.additional, depth)
        return Object.keys(props).length === 0 && !extra ? undefined : { props, ...(extra ? { extra } : {}) }
      }
      case 'union': return this.union(type.types, depth)
      case 'ref': return this.ref(type, depth)
      default: return undefined
    }
  }

  /** True when `shape` reaches bytes: only those need converting on send. */
  holdsBytes(shape: WireShape, seen = new Set<string>()): boolean {
    if (shape === 'bytes') return true
    if (shape === 'date') return false
    if ('array' in shape) return this.holdsBytes(shape.array, seen)
    if ('tuple' in shape) return shape.tuple.some((s) => s !== 0 && this.holdsBytes(s, seen)) || (shape.rest !== undefined && this.holdsBytes(shape.rest, seen))
    if ('union' in shape) return shape.union.some((s) => this.holdsBytes(s, seen))
    if ('props' in shape) return Object.values(shape.props).some((s) => this.holdsBytes(s, seen)) || (shape.extra !== undefined && this.holdsBytes(shape.extra, seen))
    if (seen.has(shape.ref)) return false
    seen.add(shape.ref)
    const named = this.named.get(shape.ref)
    return named !== undefined && this.holdsBytes(named, seen)
  }

  /** The named shapes that were needed, by name, for the file's table. */
  table(): [string, WireShape][] {
    return [...this.named].flatMap(([name, shape]) => (shape ? [[name, shape] as [string, WireShape]] : [])).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /**
   * A union member is chosen at run time by the value's form. Where the union also admits a
   * string, a string on the wire cannot be told from a date or bytes, so strings stay strings
   * (the declared union still holds).
   */
  private union(types: readonly TypeRef[], depth: number): WireShape | undefined {
    const stringy = types.some((t) => this.carriesString(t))
    const members = types.flatMap((t) => {
      const shape = this.of(t, depth)
      return shape && !(stringy && (shape === 'date' || shape === 'bytes')) ? [shape] : []
    })
    if (members.length === 0) return undefined
    return members.length === 1 ? members[0] : { union: members }
  }

  private ref(type: Extract<TypeRef, { kind: 'ref' }>, depth: number): WireShape | undefined {
    const declaration = this.types[type.name]
    if (!declaration || declaration.kind === 'enum') return undefined
    const parameters = declaration.typeParameters ?? []
    if (parameters.length > 0) {
      if (depth >= MAX_EXPANSION) return undefined
      const bindings = new Map(parameters.map((p, i) => [p, type.args?.[i] ?? ({ kind: 'primitive', name: 'unknown' } as TypeRef)]))
      return this.of(substitute(this.body(declaration), bindings), depth + 1)
    }
    // A recursive type refers to itself while its shape is worked out; the table settles it.
    if (this.pending.has(type.name)) return { ref: type.name }
    if (!this.named.has(type.name)) {
      this.pending.add(type.name)
      this.named.set(type.name, this.of(this.body(declaration), depth))
      this.pending.delete(type.name)
    }
    return this.named.get(type.name) ? { ref: type.name } : undefined
  }

  private body(declaration: Exclude<TypeDeclaration, { kind: 'enum' }>): TypeRef {
    if (declaration.kind === 'alias') return declaration.type
    return { kind: 'object', properties: declaration.properties, ...(declaration.additional ? { additional: declaration.additional } : {}) }
  }

  private carriesString(type: TypeRef, seen = new Set<string>()): boolean {
    if (type.kind === 'primitive') return type.name === 'string' || type.name === 'unknown'
    if (type.kind === 'literal') return typeof type.value === 'string'
    if (type.kind === 'union') return type.types.some((t) => this.carriesString(t, seen))
    if (type.kind === 'typeParameter') return true
    if (type.kind !== 'ref' || seen.has(type.name)) return false
    seen.add(type.name)
    const declaration = this.types[type.name]
    if (declaration?.kind === 'enum') return declaration.members.some((m) => typeof m.value === 'string')
    return declaration?.kind === 'alias' && this.carriesString(declaration.type, seen)
  }
}

/** A shape as a TypeScript literal. */
export function printShape(shape: WireShape): string {
  if (shape === 'date' || shape === 'bytes') return tsString(shape)
  if ('array' in shape) return `{ array: ${printShape(shape.array)} }`
  if ('tuple' in shape) return `{ tuple: [${shape.tuple.map((s) => (s === 0 ? '0' : printShape(s))).join(', ')}]${shape.rest ? `, rest: ${printShape(shape.rest)}` : ''} }`
  if ('ref' in shape) return `{ ref: ${tsString(shape.ref)} }`
  if ('union' in shape) return `{ union: [${shape.union.map(printShape).join(', ')}] }`
  const props = Object.entries(shape.props).map(([k, s]) => `${propertyKey(k)}: ${printShape(s)}`)
  return `{ props: ${props.length > 0 ? `{ ${props.join(', ')} }` : '{}'}${shape.extra ? `, extra: ${printShape(shape.extra)}` : ''} }`
}
