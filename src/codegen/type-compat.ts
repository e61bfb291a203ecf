/**
 * Structural assignability between TypeRefs of two models (the committed one and the new one),
 * for the contract gate. It follows TypeScript's rules closely enough to tell "every value the
 * old type allowed is still allowed" from "some are not", and errs towards "compatible" on
 * recursion it cannot settle.
 *
 * A Date is not a string here, although JSON carries it as one: MessagePack carries it as a
 * timestamp, C# reads DateTimeOffset, and generated TypeScript revives it, so a field that turns
 * from string to Date (or back) breaks readers built against the old contract. Bytes likewise.
 */
import type { Property, TupleElement, TypeDeclaration, TypeRef } from './model.js'
import { substitute } from './type-table.js'

export type TypeTableOf = Readonly<Record<string, TypeDeclaration>>

const UNKNOWN: TypeRef = { kind: 'primitive', name: 'unknown' }

/** The structure a ref stands for: alias body, interface as object, enum as a union of its values. */
function resolve(type: TypeRef, types: TypeTableOf): TypeRef {
  if (type.kind !== 'ref') return type
  const declaration = types[type.name]
  if (!declaration) return UNKNOWN
  const bindings = new Map((declaration.typeParameters ?? []).map((p, i) => [p, type.args?.[i] ?? UNKNOWN]))
  switch (declaration.kind) {
    case 'enum': return { kind: 'union', types: declaration.members.map((m) => ({ kind: 'literal', value: m.value })) }
    case 'alias': return substitute(declaration.type, bindings)
    case 'interface': return substitute({ kind: 'object', properties: declaration.properties, ...(declaration.additional ? { additional: declaration.additional } : {}) }, bindings)
  }
}

export class Compatibility {
  private readonly assuming = new Set<string>()

  constructor(private readonly sourceTypes: TypeTableOf, private readonly targetTypes: TypeTableOf) {}

  /** True when every value of `source` (in the source model) is a value of `target` (in the target model). */
  assignable(source: TypeRef, target: TypeRef): boolean {
    if (source.kind === 'ref' || target.kind === 'ref') {
      const key = `${JSON.stringify(source)}=>${JSON.stringify(target)}`
      if (this.assuming.has(key)) return true
      this.assuming.add(key)
      try {
        return this.assignable(resolve(source, this.sourceTypes), resolve(target, this.targetTypes))
      } finally {
        this.assuming.delete(key)
      }
    }
    if (target.kind === 'primitive' && target.name === 'unknown') return true
    if (source.kind === 'primitive' && source.name === 'never') return true
    if (source.kind === 'union') return source.types.every((t) => this.assignable(t, target))
    if (target.kind === 'union') return target.types.some((t) => this.assignable(source, t))
    switch (source.kind) {
      case 'primitive':
        return target.kind === 'primitive' && target.name === source.name
      case 'literal':
        return (target.kind === 'literal' && target.value === source.value) || (target.kind === 'primitive' && target.name === typeof source.value)
      case 'date':
      case 'bytes':
        return target.kind === source.kind
      case 'typeParameter':
        return target.kind === 'typeParameter' && target.name === source.name
      case 'array':
        return target.kind === 'array' && this.assignable(source.element, target.element)
      case 'tuple':
        if (target.kind === 'array') return source.elements.every((e) => this.assignable(e.rest && e.type.kind === 'array' ? e.type.element : e.type, target.element))
        return target.kind === 'tuple' && this.tuple(source.elements, target.elements)
      case 'object':
        return target.kind === 'object' && this.object(source.properties, source.additional, target.properties, target.additional)
      default:
        return false
    }
  }

  private tuple(source: readonly TupleElement[], target: readonly TupleElement[]): boolean {
    const restOf = (elements: readonly TupleElement[]): TypeRef | undefined => {
      const rest = elements.find((e) => e.rest)
      return rest ? (rest.type.kind === 'array' ? rest.type.element : UNKNOWN) : undefined
    }
    const targetRest = restOf(target)
    for (let i = 0; i < Math.max(source.length, target.length); i++) {
      const s = source[i]
      const t = target[i]
      if (s?.rest) return targetRest !== undefined && this.assignable(restOf(source)!, targetRest)
      if (!t || t.rest) {
        if (!s) return true
        if (targetRest === undefined || !this.assignable(s.type, targetRest)) return false
        continue
      }
      if (!s) return t.optional === true
      if (s.optional && !t.optional) return false
      if (!this.assignable(s.type, t.type)) return false
    }
    return true
  }

  private object(source: readonly Property[], sourceExtra: TypeRef | undefined, target: readonly Property[], targetExtra: TypeRef | undefined): boolean {
    const byName = new Map(source.map((p) => [p.name, p]))
    for (const t of target) {
      const s = byName.get(t.name)
      if (!s) {
        if (t.optional) continue
        return false
      }
      if (s.optional && !t.optional) return false
      if (!this.assignable(s.type, t.type)) return false
    }
    if (targetExtra) {
      if (!source.every((p) => this.assignable(p.type, targetExtra))) return false
      if (sourceExtra && !this.assignable(sourceExtra, targetExtra)) return false
    }
    return true
  }
}
