/** Which named types a set of TypeRefs needs, transitively: each generated file carries exactly those. */
import type { TypeDeclaration, TypeRef } from './model.js'
import { compare } from './type-table.js'

export function visitRefs(type: TypeRef, visit: (name: string) => void): void {
  switch (type.kind) {
    case 'array': return visitRefs(type.element, visit)
    case 'tuple': return type.elements.forEach((e) => visitRefs(e.type, visit))
    case 'union': return type.types.forEach((t) => visitRefs(t, visit))
    case 'object':
      type.properties.forEach((p) => visitRefs(p.type, visit))
      if (type.additional) visitRefs(type.additional, visit)
      return
    case 'ref':
      visit(type.name)
      return type.args?.forEach((a) => visitRefs(a, visit))
    default:
      return
  }
}

export function declarationRefs(declaration: TypeDeclaration): TypeRef[] {
  switch (declaration.kind) {
    case 'alias': return [declaration.type]
    case 'enum': return []
    case 'interface': return [...declaration.properties.map((p) => p.type), ...(declaration.additional ? [declaration.additional] : [])]
  }
}

/** The declarations `roots` reach, sorted by name. */
export function typeClosure(roots: readonly TypeRef[], types: Readonly<Record<string, TypeDeclaration>>): TypeDeclaration[] {
  const found = new Set<string>()
  const pending: TypeRef[] = [...roots]
  for (let next = pending.pop(); next; next = pending.pop()) {
    visitRefs(next, (name) => {
      if (found.has(name)) return
      found.add(name)
      const declaration = types[name]
      if (declaration) pending.push(...declarationRefs(declaration))
    })
  }
  return [...found].sort(compare).flatMap((name) => (types[name] ? [types[name]] : []))
}
