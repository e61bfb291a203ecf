/**
 * Type parameters replaced by type arguments in a TypeRef. Pure and free of ts-morph, so that
 * the run-time binder can use it without loading the analyzer.
 */
import type { TypeRef } from './model.js'

/** Replaces type parameters by the given arguments (for `interface A extends B<string>`). */
export function substitute(type: TypeRef, bindings: ReadonlyMap<string, TypeRef>): TypeRef {
  if (bindings.size === 0) return type
  switch (type.kind) {
    case 'typeParameter': return bindings.get(type.name) ?? type
    case 'array': return { kind: 'array', element: substitute(type.element, bindings) }
    case 'tuple': return { kind: 'tuple', elements: type.elements.map((e) => ({ ...e, type: substitute(e.type, bindings) })) }
    case 'union': return { kind: 'union', types: type.types.map((t) => substitute(t, bindings)) }
    case 'ref': return type.args ? { ...type, args: type.args.map((a) => substitute(a, bindings)) } : type
    case 'object': return {
      kind: 'object',
      properties: type.properties.map((p) => ({ ...p, type: substitute(p.type, bindings) })),
      ...(type.additional ? { additional: substitute(type.additional, bindings) } : {}),
    }
    default: return type
  }
}
