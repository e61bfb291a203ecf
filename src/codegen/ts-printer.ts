/**
 * TypeRefs and declarations as TypeScript source. Enums become an `as const` object plus a union
 * type of the same name (usable as `Priority.High` and as a type, and fine under
 * `erasableSyntaxOnly`); dates are `Date` and bytes `Uint8Array`: generated code turns their
 * JSON forms (ISO 8601, base64 strings) back on receipt (wire-runtime.ts).
 */
import type { TupleElement, TypeDeclaration, TypeRef } from './model.js'
import { jsDoc, propertyKey, tsString } from './names.js'

export function printType(type: TypeRef): string {
  switch (type.kind) {
    case 'primitive': return type.name
    case 'literal': return typeof type.value === 'string' ? tsString(type.value) : String(type.value)
    case 'date': return 'Date'
    case 'bytes': return 'Uint8Array'
    case 'array': {
      const element = printType(type.element)
      return type.element.kind === 'union' ? `(${element})[]` : `${element}[]`
    }
    case 'tuple': return printTuple(type.elements)
    case 'union': return type.types.map(printType).join(' | ')
    case 'object': {
      const members = type.properties.map((p) => `${p.readonly ? 'readonly ' : ''}${propertyKey(p.name)}${p.optional ? '?' : ''}: ${printType(p.type)}`)
      if (type.additional) members.push(`[key: string]: ${printType(type.additional)}`)
      return members.length === 0 ? '{}' : `{ ${members.join('; ')} }`
    }
    case 'ref': return type.args && type.args.length > 0 ? `${type.name}<${type.args.map(printType).join(', ')}>` : type.name
    case 'typeParameter': return type.name
  }
}

/** Labels are all-or-nothing in TypeScript, so one label names every element. */
export function printTuple(elements: readonly TupleElement[]): string {
  const labelled = elements.some((e) => e.name !== undefined)
  const parts = elements.map((e, i) => {
    const type = printType(e.type)
    if (labelled) return `${e.rest ? '...' : ''}${e.name ?? `arg${i}`}${e.optional ? '?' : ''}: ${type}`
    if (e.rest) return `...${type}`
    return e.optional ? `${e.type.kind === 'union' ? `(${type})` : type}?` : type
  })
  return `[${parts.join(', ')}]`
}

export function printDeclaration(declaration: TypeDeclaration): string[] {
  const doc = jsDoc(declaration.doc)
  const generics = declaration.typeParameters && declaration.typeParameters.length > 0 ? `<${declaration.typeParameters.join(', ')}>` : ''
  switch (declaration.kind) {
    case 'alias':
      return [...doc, `export type ${declaration.name}${generics} = ${printType(declaration.type)}`]
    case 'enum': {
      const members = declaration.members.map((m) => `  ${propertyKey(m.name)}: ${typeof m.value === 'string' ? tsString(m.value) : m.value},`)
      const name = declaration.name
      return [...doc, `export const ${name} = {`, ...members, '} as const', ...doc, `export type ${name} = (typeof ${name})[keyof typeof ${name}]`]
    }
    case 'interface': {
      const lines = [...doc, `export interface ${declaration.name}${generics} {`]
      for (const p of declaration.properties) {
        lines.push(...jsDoc(p.doc, '  '), `  ${p.readonly ? 'readonly ' : ''}${propertyKey(p.name)}${p.optional ? '?' : ''}: ${printType(p.type)}`)
      }
      if (declaration.additional) lines.push(`  [key: string]: ${printType(declaration.additional)}`)
      lines.push('}')
      return lines
    }
  }
}
