/**
 * TypeRefs as the schemas the run-time binder compiles (see binder-keywords.ts): JSON Schema
 * draft-07 plus three keywords of ours that revive as they check: `imDate` (a Date, or an ISO 8601
 * string made into one), `imBytes` (a Uint8Array, or base64 made into one) and `imKeys` (property
 * names matched ignoring case, as ASP.NET's JSON protocol does; `null` in an optional property
 * read as absent). Unlike the AsyncAPI schemas (json-schema.ts) these describe what may arrive,
 * not what is documented: extra properties are accepted (structural typing; ASP.NET ignores
 * unknown JSON properties), and a type that says nothing (`unknown`) becomes `true`.
 */
import type { Property, TypeDeclaration, TypeRef } from './model.js'
import { substitute } from './type-substitute.js'

export type BinderSchema = boolean | { readonly [key: string]: unknown }

type Types = Readonly<Record<string, TypeDeclaration>>

const MAX_EXPANSION = 16

/** Builds schemas for one hub: named types become shared `definitions`, read once. */
export class BinderSchemas {
  private readonly definitions: Record<string, BinderSchema> = {}

  constructor(private readonly types: Types) {}

  /** A root schema: `schema` plus every definition it (or an earlier schema) referenced. */
  root(schema: BinderSchema): BinderSchema {
    if (typeof schema === 'boolean') return schema
    return { ...schema, definitions: { ...this.definitions } }
  }

  of(type: TypeRef, depth = 0): BinderSchema {
    if (type.kind === 'bytes') return { imBytes: true }
    const recurse = (t: TypeRef): BinderSchema => this.of(t, depth)
    switch (type.kind) {
      case 'primitive':
        if (type.name === 'unknown') return true
        if (type.name === 'never' || type.name === 'undefined' || type.name === 'void') return false
        return { type: type.name }
      case 'literal': return { const: type.value }
      case 'date': return { imDate: true }
      case 'array': return { type: 'array', items: recurse(type.element) }
      case 'tuple': {
        const fixed = type.elements.filter((e) => !e.rest)
        const rest = type.elements.find((e) => e.rest)
        const restItems = rest === undefined ? false : rest.type.kind === 'array' ? recurse(rest.type.element) : true
        // Draft-07 wants at least one schema in an `items` array.
        if (fixed.length === 0) return { type: 'array', items: restItems }
        return {
          type: 'array',
          items: fixed.map((e) => recurse(e.type)),
          minItems: fixed.filter((e) => !e.optional).length,
          additionalItems: restItems,
        }
      }
      case 'union': {
        const present = type.types.filter((t) => !(t.kind === 'primitive' && t.name === 'undefined'))
        const schemas = present.map(recurse)
        if (schemas.includes(true)) return true
        if (schemas.length === 1) return schemas[0]!
        return { anyOf: schemas }
      }
      case 'object': return this.object(type.properties, type.additional, recurse)
      case 'typeParameter': return true
      case 'ref': return this.reference(type.name, type.args, depth)
    }
  }

  /** Whether values of `schema` need checking at all. */
  static checks(schema: BinderSchema): boolean {
    return schema !== true
  }

  private reference(name: string, args: readonly TypeRef[] | undefined, depth: number): BinderSchema {
    const declaration = this.types[name]
    if (!declaration) return true
    const generic = (declaration.typeParameters?.length ?? 0) > 0
    if (generic) {
      if (depth >= MAX_EXPANSION) return true
      const bindings = new Map(declaration.typeParameters!.map((p, i) => [p, args?.[i] ?? ({ kind: 'primitive', name: 'unknown' } as TypeRef)]))
      return this.declaration(declaration, bindings, depth + 1)
    }
    if (!(name in this.definitions)) {
      // Set first, so that a recursive type refers to itself instead of expanding forever.
      this.definitions[name] = true
      this.definitions[name] = this.declaration(declaration, new Map(), depth)
    }
    return { $ref: `#/definitions/${name}` }
  }

  private declaration(declaration: TypeDeclaration, bindings: ReadonlyMap<string, TypeRef>, depth: number): BinderSchema {
    const recurse = (t: TypeRef): BinderSchema => this.of(substitute(t, bindings), depth)
    switch (declaration.kind) {
      case 'enum': return { enum: declaration.members.map((m) => m.value) }
      case 'alias': return recurse(declaration.type)
      case 'interface': return this.object(declaration.properties, declaration.additional, recurse)
    }
  }

  private object(properties: readonly Property[], additional: TypeRef | undefined, recurse: (t: TypeRef) => BinderSchema): BinderSchema {
    const required = properties.filter((p) => !p.optional).map((p) => p.name)
    const optionalNotNull = properties.filter((p) => p.optional && !admitsNull(p.type)).map((p) => p.name)
    const extra = additional === undefined ? true : recurse(additional)
    return {
      type: 'object',
      ...(properties.length > 0 ? { imKeys: { names: properties.map((p) => p.name), nullIsAbsent: optionalNotNull } } : {}),
      properties: Object.fromEntries(properties.map((p) => [p.name, recurse(p.type)])),
      ...(required.length > 0 ? { required } : {}),
      ...(extra === true ? {} : { additionalProperties: extra }),
    }
  }
}

/** Whether `null` is one of the type's values. */
export function admitsNull(type: TypeRef): boolean {
  if (type.kind === 'primitive') return type.name === 'null' || type.name === 'unknown'
  if (type.kind === 'union') return type.types.some(admitsNull)
  return false
}
