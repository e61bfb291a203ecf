/**
 * TypeRefs as C# for System.Text.Json. Objects become sealed records with [JsonPropertyName]
 * (the wire names stay exactly as the hub spells them); optional members are nullable and left
 * out when null; numbers are double (JSON does not say int); dates are DateTimeOffset (JSON
 * carries ISO 8601) and bytes byte[] (JSON carries base64), the types System.Text.Json reads
 * those forms into; `unknown`, tuples and unions C# cannot express are JsonElement.
 */
import { upperFirst } from './envelope-casing.js'
import type { EnumDeclaration, Property, TypeDeclaration, TypeRef } from './model.js'
import { pascalCase } from './names.js'
import { substitute } from './type-table.js'

export interface CsType {
  readonly text: string
  readonly nullable: boolean
}

const KEYWORDS = new Set(['abstract', 'as', 'base', 'bool', 'break', 'byte', 'case', 'catch', 'char', 'checked', 'class', 'const', 'continue', 'decimal', 'default', 'delegate', 'do', 'double', 'else', 'enum', 'event', 'explicit', 'extern', 'false', 'finally', 'fixed', 'float', 'for', 'foreach', 'goto', 'if', 'implicit', 'in', 'int', 'interface', 'internal', 'is', 'lock', 'long', 'namespace', 'new', 'null', 'object', 'operator', 'out', 'override', 'params', 'private', 'protected', 'public', 'readonly', 'ref', 'return', 'sbyte', 'sealed', 'short', 'sizeof', 'stackalloc', 'static', 'string', 'struct', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'uint', 'ulong', 'unchecked', 'unsafe', 'ushort', 'using', 'virtual', 'void', 'volatile', 'while'])

export function csIdentifier(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_]/g, '_')
  const safe = /^[0-9]/.test(clean) || clean === '' ? `_${clean}` : clean
  return KEYWORDS.has(safe) ? `@${safe}` : safe
}

export function csString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`
}

const JSON_ELEMENT: CsType = { text: 'JsonElement', nullable: false }

/** Collects the C# declarations a set of types needs, records for anonymous objects included. */
export class CsharpTypes {
  /** Declarations by C# name, in the order they were first needed. */
  readonly declarations = new Map<string, string[]>()
  private readonly pending: [string, () => string[]][] = []

  /**
   * @param pascalWire records whose properties travel with their first letter upper-cased
   * (IMService's envelopes under `hubs.envelopeCasing: 'pascal'`), rather than as declared.
   */
  constructor(
    private readonly types: Readonly<Record<string, TypeDeclaration>>,
    private readonly pascalWire: ReadonlySet<string> = new Set(),
  ) {}

  /** The C# type for `type`; `hint` names a record made for an anonymous object. */
  map(type: TypeRef, hint: string): CsType {
    switch (type.kind) {
      case 'primitive':
        if (type.name === 'string') return { text: 'string', nullable: false }
        if (type.name === 'number') return { text: 'double', nullable: false }
        if (type.name === 'boolean') return { text: 'bool', nullable: false }
        return { text: 'JsonElement', nullable: type.name !== 'unknown' }
      case 'literal': return { text: typeof type.value === 'string' ? 'string' : typeof type.value === 'number' ? 'double' : 'bool', nullable: false }
      case 'date': return { text: 'DateTimeOffset', nullable: false }
      case 'bytes': return { text: 'byte[]', nullable: false }
      case 'array': return { text: `IReadOnlyList<${nullableText(this.map(type.element, `${hint}Item`))}>`, nullable: false }
      case 'tuple': {
        // [lat: number, lng: number] is a list of double; a mixed tuple stays raw JSON.
        const items = type.elements.map((e) => nullableText(this.map(e.rest && e.type.kind === 'array' ? e.type.element : e.type, `${hint}Item`)))
        const same = items.length > 0 && items.every((i) => i === items[0])
        return { text: `IReadOnlyList<${same ? items[0] : 'JsonElement'}>`, nullable: false }
      }
      case 'typeParameter': return { text: type.name, nullable: false }
      case 'union': return this.union(type.types, hint)
      case 'object':
        if (type.properties.length === 0) {
          return { text: `IReadOnlyDictionary<string, ${nullableText(type.additional ? this.map(type.additional, `${hint}Value`) : JSON_ELEMENT)}>`, nullable: false }
        }
        this.declare(hint, () => this.record(hint, [], type.properties, type.additional))
        return { text: hint, nullable: false }
      case 'ref': return this.ref(type.name, type.args ?? [], hint)
    }
  }

  /** Reads every declaration queued so far (records may queue more). */
  flush(): void {
    for (let next = this.pending.shift(); next; next = this.pending.shift()) this.declarations.set(next[0], next[1]())
  }

  private union(types: readonly TypeRef[], hint: string): CsType {
    const present = types.filter((t) => !(t.kind === 'primitive' && (t.name === 'null' || t.name === 'undefined')))
    const nullable = present.length < types.length
    const mapped = present.map((t) => this.map(t, hint))
    const texts = new Set(mapped.map((m) => m.text))
    if (texts.size === 1) return { text: mapped[0]!.text, nullable: nullable || mapped[0]!.nullable }
    return { text: 'JsonElement', nullable }
  }

  private ref(name: string, args: readonly TypeRef[], hint: string): CsType {
    const declaration = this.types[name]
    if (!declaration) return JSON_ELEMENT
    if (declaration.kind === 'enum') {
      const numeric = declaration.members.every((m) => typeof m.value === 'number')
      const textual = declaration.members.every((m) => typeof m.value === 'string')
      if (numeric || textual) this.declare(name, () => this.enumeration(declaration.name, declaration.members, numeric, declaration.doc))
      return numeric ? { text: name, nullable: false } : textual ? { text: 'string', nullable: false } : JSON_ELEMENT
    }
    const bindings = new Map((declaration.typeParameters ?? []).map((p, i) => [p, args[i] ?? ({ kind: 'primitive', name: 'unknown' } as TypeRef)]))
    if (declaration.kind === 'alias') {
      const target = declaration.type
      if (target.kind === 'object' && target.properties.length > 0 && bindings.size === 0) {
        this.declare(name, () => this.record(name, [], target.properties, target.additional, declaration.doc))
        return { text: name, nullable: false }
      }
      return this.map(substitute(target, bindings), hint)
    }
    const parameters = declaration.typeParameters ?? []
    this.declare(name, () => this.record(name, parameters, declaration.properties, declaration.additional, declaration.doc))
    const generic = parameters.length > 0 ? `<${parameters.map((p) => nullableText(this.map(bindings.get(p)!, `${hint}${p}`))).join(', ')}>` : ''
    return { text: `${name}${generic}`, nullable: false }
  }

  private declare(name: string, build: () => string[]): void {
    if (this.declarations.has(name) || this.pending.some(([n]) => n === name)) return
    this.declarations.set(name, [])
    this.pending.push([name, build])
  }

  private record(name: string, typeParameters: readonly string[], properties: readonly Property[], additional: TypeRef | undefined, doc?: string): string[] {
    const generic = typeParameters.length > 0 ? `<${typeParameters.join(', ')}>` : ''
    const lines = [...summary(doc, ''), `public sealed record ${name}${generic}`, '{']
    const used = new Set([name])
    properties.forEach((p, i) => {
      let member = csIdentifier(pascalCase(p.name) || p.name)
      if (used.has(member)) member = `${member}${used.has(`${member}Value`) ? i : 'Value'}`
      used.add(member)
      const type = this.map(p.type, `${name}${pascalCase(p.name)}`)
      const nullable = type.nullable || p.optional === true
      if (i > 0) lines.push('')
      const wire = this.pascalWire.has(name) ? upperFirst(p.name) : p.name
      lines.push(...summary(p.doc, '    '), `    [JsonPropertyName(${csString(wire)})]`)
      if (p.optional) lines.push('    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]')
      lines.push(`    public ${p.optional ? '' : 'required '}${type.text}${nullable ? '?' : ''} ${member} { get; init; }`)
    })
    if (additional) {
      if (properties.length > 0) lines.push('')
      lines.push('    /// <summary>Members beyond the declared ones (the index signature).</summary>', '    [JsonExtensionData]', '    public Dictionary<string, JsonElement>? Extra { get; init; }')
    }
    lines.push('}')
    return lines
  }

  private enumeration(name: string, members: EnumDeclaration['members'], numeric: boolean, doc?: string): string[] {
    if (numeric) {
      return [...summary(doc, ''), `public enum ${name}`, '{', ...members.map((m) => `    ${csIdentifier(m.name)} = ${m.value},`), '}']
    }
    return [...summary(doc ?? `The values of ${name}, carried as strings.`, ''), `public static class ${name}`, '{', ...members.map((m) => `    public const string ${csIdentifier(m.name)} = ${csString(String(m.value))};`), '}']
  }
}

function nullableText(type: CsType): string {
  return type.nullable ? `${type.text}?` : type.text
}

export function summary(doc: string | undefined, indent: string): string[] {
  if (!doc) return []
  const escaped = doc.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').split('\n')
  return [`${indent}/// <summary>`, ...escaped.map((l) => `${indent}/// ${l}`.trimEnd()), `${indent}/// </summary>`]
}
