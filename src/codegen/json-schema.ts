/**
 * TypeRefs as JSON Schema (the draft-07 dialect AsyncAPI 3.0 schemas extend). Named non-generic
 * types are `$ref`s into components.schemas; generic ones are expanded where they are used,
 * since JSON Schema has no type parameters.
 */
import type { Property, TypeDeclaration, TypeRef } from './model.js'
import { substitute } from './type-table.js'

export type JsonSchema = { readonly [key: string]: unknown }

const MAX_EXPANSION = 16

export function schemaRef(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${name}` }
}

export function toSchema(type: TypeRef, types: Readonly<Record<string, TypeDeclaration>>, depth = 0): JsonSchema {
  const recurse = (t: TypeRef): JsonSchema => toSchema(t, types, depth)
  switch (type.kind) {
    case 'primitive':
      if (type.name === 'unknown') return {}
      if (type.name === 'never' || type.name === 'undefined' || type.name === 'void') return { not: {} }
      return { type: type.name }
    case 'literal': return { const: type.value }
    case 'date': return { type: 'string', format: 'date-time' }
    case 'bytes': return { type: 'string', contentEncoding: 'base64' }
    case 'array': return { type: 'array', items: recurse(type.element) }
    case 'tuple': {
      const fixed = type.elements.filter((e) => !e.rest)
      const rest = type.elements.find((e) => e.rest)
      const restItems = rest?.type.kind === 'array' ? recurse(rest.type.element) : rest ? {} : false
      return {
        type: 'array',
        items: fixed.map((e) => recurse(e.type)),
        minItems: fixed.filter((e) => !e.optional).length,
        additionalItems: restItems,
      }
    }
    case 'union': {
      const present = type.types.filter((t) => !(t.kind === 'primitive' && t.name === 'undefined'))
      if (present.every((t) => t.kind === 'literal' || (t.kind === 'primitive' && t.name === 'null'))) {
        return { enum: present.map((t) => (t.kind === 'literal' ? t.value : null)) }
      }
      return { anyOf: present.map(recurse) }
    }
    case 'object': return objectSchema(type.properties, type.additional, recurse)
    case 'typeParameter': return {}
    case 'ref': {
      const declaration = types[type.name]
      if (!declaration) return {}
      if (!declaration.typeParameters || declaration.typeParameters.length === 0) return schemaRef(type.name)
      if (depth >= MAX_EXPANSION) return {}
      const bindings = new Map(declaration.typeParameters.map((p, i) => [p, type.args?.[i] ?? ({ kind: 'primitive', name: 'unknown' } as TypeRef)]))
      return declarationSchema(declaration, types, bindings, depth + 1)
    }
  }
}

/** The schema a declaration stands for (with its type parameters bound, for generic ones). */
export function declarationSchema(declaration: TypeDeclaration, types: Readonly<Record<string, TypeDeclaration>>, bindings: ReadonlyMap<string, TypeRef> = new Map(), depth = 0): JsonSchema {
  const recurse = (t: TypeRef): JsonSchema => toSchema(substitute(t, bindings), types, depth)
  const description = declaration.doc ? { description: declaration.doc } : {}
  switch (declaration.kind) {
    case 'enum': return { ...description, enum: declaration.members.map((m) => m.value) }
    case 'alias': return { ...description, ...recurse(declaration.type) }
    case 'interface': return { ...description, ...objectSchema(declaration.properties, declaration.additional, recurse) }
  }
}

function objectSchema(properties: readonly Property[], additional: TypeRef | undefined, recurse: (t: TypeRef) => JsonSchema): JsonSchema {
  const required = properties.filter((p) => !p.optional).map((p) => p.name)
  return {
    type: 'object',
    properties: Object.fromEntries(properties.map((p) => [p.name, p.doc ? { description: p.doc, ...recurse(p.type) } : recurse(p.type)])),
    ...(required.length > 0 ? { required } : {}),
    ...(additional ? { additionalProperties: recurse(additional) } : {}),
  }
}
