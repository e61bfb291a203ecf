/**
 * Turns TypeScript types into wire TypeRefs. Type nodes are read first, because the syntax keeps
 * the names the author wrote (`Status | null` stays `Status | null`, where the checker would
 * spell out the alias); the checker's types fill in where there is no node (inferred returns,
 * mapped utility types, intersections). Anything JSON cannot carry becomes a problem at its site.
 */
import { Node, SyntaxKind, ts } from 'ts-morph'
import type { Symbol as MorphSymbol, Type, TypeNode, TypeReferenceNode } from 'ts-morph'
import type { Property, TupleElement, TypeRef } from './model.js'
import { frameworkRoot, resolveAlias } from './framework.js'
import type { TypeTable } from './type-table.js'

/** Where a type occurs: the node gives file and line, `member` names it for the author. */
export interface Site {
  readonly node: Node
  readonly member: string
}

const P = {
  string: { kind: 'primitive', name: 'string' },
  number: { kind: 'primitive', name: 'number' },
  boolean: { kind: 'primitive', name: 'boolean' },
  null: { kind: 'primitive', name: 'null' },
  undefined: { kind: 'primitive', name: 'undefined' },
  unknown: { kind: 'primitive', name: 'unknown' },
  void: { kind: 'primitive', name: 'void' },
  never: { kind: 'primitive', name: 'never' },
} as const satisfies Record<string, TypeRef>

/** Library types that have no wire form: say what to use instead. */
const NOT_JSON = new Set(['Map', 'Set', 'WeakMap', 'WeakSet', 'RegExp', 'Error', 'ArrayBuffer', 'Buffer', 'URL', 'Function', 'Symbol'])
const MAX_DEPTH = 24

export class TypeRefBuilder {
  constructor(private readonly table: TypeTable) {}

  fromNode(node: TypeNode, site: Site): TypeRef {
    if (Node.isParenthesizedTypeNode(node)) return this.fromNode(node.getTypeNode(), site)
    switch (node.getKind()) {
      case SyntaxKind.StringKeyword: return P.string
      case SyntaxKind.NumberKeyword: return P.number
      case SyntaxKind.BooleanKeyword: return P.boolean
      case SyntaxKind.UndefinedKeyword: return P.undefined
      case SyntaxKind.UnknownKeyword: return P.unknown
      case SyntaxKind.VoidKeyword: return P.void
      case SyntaxKind.NeverKeyword: return P.never
      case SyntaxKind.ObjectKeyword: return { kind: 'object', properties: [], additional: P.unknown }
      case SyntaxKind.AnyKeyword: return this.problem(site, "'any' says nothing about the wire shape; use 'unknown' or a precise type")
      case SyntaxKind.BigIntKeyword: return this.problem(site, 'bigint has no JSON form; use number or a decimal string')
      case SyntaxKind.SymbolKeyword: return this.problem(site, 'a symbol cannot be sent as JSON')
      case SyntaxKind.TemplateLiteralType: return P.string
    }
    if (Node.isLiteralTypeNode(node)) {
      const literal = node.getLiteral()
      if (Node.isNullLiteral(literal)) return P.null
      if (Node.isStringLiteral(literal)) return { kind: 'literal', value: literal.getLiteralValue() }
      if (Node.isNumericLiteral(literal)) return { kind: 'literal', value: literal.getLiteralValue() }
      if (Node.isTrueLiteral(literal) || Node.isFalseLiteral(literal)) return { kind: 'literal', value: literal.getLiteralValue() }
    }
    if (Node.isArrayTypeNode(node)) return { kind: 'array', element: this.fromNode(node.getElementTypeNode(), site) }
    if (Node.isTypeOperatorTypeNode(node) && node.getOperator() === SyntaxKind.ReadonlyKeyword) return this.fromNode(node.getTypeNode(), site)
    if (Node.isTupleTypeNode(node)) return { kind: 'tuple', elements: node.getElements().map((e) => this.tupleElement(e, site)) }
    if (Node.isUnionTypeNode(node)) return union(node.getTypeNodes().map((t) => this.fromNode(t, site)))
    if (Node.isFunctionTypeNode(node) || Node.isConstructorTypeNode(node)) return this.problem(site, 'a function cannot be sent as JSON')
    if (Node.isTypeLiteral(node)) return this.typeLiteral(node, site)
    if (Node.isTypeReference(node)) return this.reference(node, site)
    return this.fromType(node.getType(), site)
  }

  fromType(type: Type, site: Site, depth = 0): TypeRef {
    if (depth > MAX_DEPTH) return this.problem(site, `the type '${type.getText()}' nests too deeply to describe`)
    if (type.isTypeParameter()) return { kind: 'typeParameter', name: type.getSymbolOrThrow().getName() }
    if (type.isAny()) return this.problem(site, "'any' says nothing about the wire shape; use 'unknown' or a precise type")
    if (type.isUnknown()) return P.unknown
    if (type.isString() || type.isTemplateLiteral()) return P.string
    if (type.isNumber()) return P.number
    if (type.isBoolean()) return P.boolean
    if (type.isNull()) return P.null
    if (type.isUndefined()) return P.undefined
    if (type.isVoid()) return P.void
    if (type.isNever()) return P.never
    if (type.isBigInt() || type.isBigIntLiteral()) return this.problem(site, 'bigint has no JSON form; use number or a decimal string')
    if (type.getFlags() & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return this.problem(site, 'a symbol cannot be sent as JSON')
    if (type.isStringLiteral() || type.isNumberLiteral()) return { kind: 'literal', value: type.getLiteralValue() as string | number }
    if (type.isBooleanLiteral()) return { kind: 'literal', value: type.getText() === 'true' }

    const named = this.namedType(type, site, depth)
    if (named) return named
    if (type.isUnion()) return union(type.getUnionTypes().map((t) => this.fromType(t, site, depth + 1)))
    if (type.isArray() || type.isReadonlyArray()) {
      const element = type.getArrayElementType() ?? type.getTypeArguments()[0]
      return { kind: 'array', element: element ? this.fromType(element, site, depth + 1) : P.unknown }
    }
    if (type.isTuple()) return this.tupleType(type, site, depth)
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) {
      return this.problem(site, 'a function cannot be sent as JSON')
    }
    const symbolName = type.getSymbol()?.getName()
    if (symbolName === 'Date' && isLibrary(type.getSymbol())) return { kind: 'date' }
    if (symbolName === 'Uint8Array' && isLibrary(type.getSymbol())) return { kind: 'bytes' }
    if (symbolName === 'Promise' && isLibrary(type.getSymbol())) return this.problem(site, 'a Promise is only allowed as the return type of a hub method')
    if (type.isIntersection() || type.isObject()) {
      if (symbolName && NOT_JSON.has(symbolName) && isLibrary(type.getSymbol())) return this.notJson(symbolName, site)
      if (type.isClassOrInterface() && isLibrary(type.getSymbol())) {
        return this.problem(site, `'${type.getText()}' comes from a library; declare the shape in your project so it can be generated`)
      }
      return this.structural(type, site, depth)
    }
    return this.problem(site, `cannot describe the type '${type.getText()}' for the wire`)
  }

  /** A reference the author wrote: a project declaration, a type parameter, or a library type. */
  private reference(node: TypeReferenceNode, site: Site): TypeRef {
    const symbol = resolveAlias(node.getTypeName().getSymbol())
    const declaration = symbol?.getDeclarations()[0]
    const args = node.getTypeArguments()
    if (!symbol || !declaration) {
      // Without Node's types in the project, Buffer does not resolve; the advice is the same.
      if (node.getTypeName().getText() === 'Buffer') return this.notJson('Buffer', site)
      return this.problem(site, `cannot resolve '${node.getTypeName().getText()}'; im generate reads the project's TypeScript sources, not packages' declaration files, so declare the type in the project`)
    }
    if (Node.isTypeParameterDeclaration(declaration)) return { kind: 'typeParameter', name: symbol.getName() }
    if (Node.isEnumMember(declaration)) return { kind: 'literal', value: declaration.getValue() ?? declaration.getName() }
    if (!isLibrary(symbol)) {
      const name = this.table.reference(declaration, site)
      if (name === undefined) return this.fromType(node.getType(), site)
      return args.length > 0 ? { kind: 'ref', name, args: args.map((a) => this.fromNode(a, site)) } : { kind: 'ref', name }
    }
    const name = symbol.getName()
    if ((name === 'Array' || name === 'ReadonlyArray') && args[0]) return { kind: 'array', element: this.fromNode(args[0], site) }
    if (name === 'Date') return { kind: 'date' }
    if (name === 'Uint8Array') return { kind: 'bytes' }
    if (name === 'Promise') return this.problem(site, 'a Promise is only allowed as the return type of a hub method')
    if (name === 'Record' && args[0] && args[1] && node.getType().getStringIndexType()) {
      return { kind: 'object', properties: [], additional: this.fromNode(args[1], site) }
    }
    if (NOT_JSON.has(name)) return this.notJson(name, site)
    // Partial, Pick, Omit, Record over literal keys...: the checker expands them to plain objects.
    return this.fromType(node.getType(), site)
  }

  /** A named type seen through the checker: a project alias, interface, class or enum. */
  private namedType(type: Type, site: Site, depth: number): TypeRef | undefined {
    const alias = type.getAliasSymbol()
    const aliasDeclaration = alias?.getDeclarations()[0]
    if (alias && aliasDeclaration && !isLibrary(alias)) {
      const name = this.table.reference(aliasDeclaration, site)
      if (name !== undefined) return withArgs(name, type.getAliasTypeArguments().map((t) => this.fromType(t, site, depth + 1)))
    }
    const symbol = type.getSymbol()
    const declaration = symbol?.getDeclarations()[0]
    if (!symbol || !declaration || isLibrary(symbol)) return undefined
    const declared = Node.isEnumDeclaration(declaration) || Node.isInterfaceDeclaration(declaration) || Node.isClassDeclaration(declaration)
    if (!declared) return undefined
    const name = this.table.reference(declaration, site)
    if (name === undefined) return undefined
    const parameters = Node.isEnumDeclaration(declaration) ? 0 : declaration.getTypeParameters().length
    return withArgs(name, type.getTypeArguments().slice(0, parameters).map((t) => this.fromType(t, site, depth + 1)))
  }

  private structural(type: Type, site: Site, depth: number): TypeRef {
    const properties: Property[] = []
    for (const symbol of type.getProperties()) {
      const member: Site = { node: site.node, member: `${site.member}.${symbol.getName()}` }
      const declaration = symbol.getDeclarations()[0]
      if (declaration && (Node.isMethodSignature(declaration) || Node.isMethodDeclaration(declaration))) {
        this.problem(member, 'a method cannot be sent as JSON; payloads are plain data')
        continue
      }
      const optional = symbol.isOptional()
      const propertyType = symbol.getTypeAtLocation(site.node)
      // The checker adds `| undefined` to optional properties; the `?` already says so.
      const parts = optional && propertyType.isUnion() ? propertyType.getUnionTypes().filter((t) => !t.isUndefined()) : [propertyType]
      properties.push(prop(symbol, union(parts.map((t) => this.fromType(t, member, depth + 1))), optional))
    }
    const index = type.getStringIndexType() ?? type.getNumberIndexType()
    const additional = index ? this.fromType(index, site, depth + 1) : undefined
    return additional ? { kind: 'object', properties, additional } : { kind: 'object', properties }
  }

  private typeLiteral(node: Node & { getMembers(): Node[] }, site: Site): TypeRef {
    const properties: Property[] = []
    let additional: TypeRef | undefined
    for (const member of node.getMembers()) {
      const memberSite: Site = { node: member, member: `${site.member}.${memberName(member)}` }
      if (Node.isPropertySignature(member)) properties.push(this.property(member, memberSite))
      else if (Node.isIndexSignatureDeclaration(member)) additional = this.indexSignature(member, memberSite)
      else this.problem(memberSite, 'a method cannot be sent as JSON; payloads are plain data')
    }
    return additional ? { kind: 'object', properties, additional } : { kind: 'object', properties }
  }

  /** A property signature of an interface or type literal. */
  property(member: Node & { getTypeNode(): TypeNode | undefined; getType(): Type; hasQuestionToken(): boolean; isReadonly(): boolean }, site: Site): Property {
    const typeNode = member.getTypeNode()
    const type = typeNode ? this.fromNode(typeNode, site) : this.fromType(member.getType(), site)
    const doc = docOf(member)
    return {
      name: memberName(member),
      type,
      ...(member.hasQuestionToken() ? { optional: true } : {}),
      ...(member.isReadonly() ? { readonly: true } : {}),
      ...(doc ? { doc } : {}),
    }
  }

  indexSignature(member: Node & { getReturnTypeNode(): TypeNode | undefined; getReturnType(): Type }, site: Site): TypeRef {
    const node = member.getReturnTypeNode()
    return node ? this.fromNode(node, site) : this.fromType(member.getReturnType(), site)
  }

  private tupleElement(element: TypeNode, site: Site): TupleElement {
    if (Node.isNamedTupleMember(element)) {
      const inner = this.fromNode(element.getTypeNode(), site)
      return { type: inner, name: element.getNameNode().getText(), ...flags(element.hasQuestionToken(), element.getDotDotDotToken() !== undefined) }
    }
    if (Node.isOptionalTypeNode(element)) return { type: this.fromNode(element.getTypeNode(), site), optional: true }
    if (Node.isRestTypeNode(element)) return { type: this.fromNode(element.getTypeNode(), site), rest: true }
    return { type: this.fromNode(element, site) }
  }

  private tupleType(type: Type, site: Site, depth: number): TypeRef {
    const target = (type.compilerType as ts.TupleTypeReference).target
    const labels = target.labeledElementDeclarations
    return {
      kind: 'tuple',
      elements: type.getTupleElements().map((element, i) => {
        const flag = target.elementFlags[i] ?? ts.ElementFlags.Required
        const rest = (flag & ts.ElementFlags.Variable) !== 0
        const elementType = this.fromType(element, site, depth + 1)
        const label = labels?.[i]?.name
        return {
          type: rest ? { kind: 'array', element: elementType } : elementType,
          ...(label && ts.isIdentifier(label) ? { name: label.text } : {}),
          ...flags((flag & ts.ElementFlags.Optional) !== 0, rest),
        }
      }),
    }
  }

  private notJson(name: string, site: Site): TypeRef {
    // What arrives is a plain Uint8Array (bin in MessagePack, base64 in JSON), never a Buffer.
    if (name === 'Buffer' || name === 'ArrayBuffer') return this.problem(site, `${name} is not what a client sends; declare Uint8Array (base64 in JSON, bin in MessagePack, byte[] in C#)`)
    const instead = name === 'Map' ? '; use Record<string, T>' : name === 'Set' ? '; use an array' : ''
    return this.problem(site, `${name} has no faithful JSON form${instead}`)
  }

  problem(site: Site, message: string): TypeRef {
    this.table.problem(site, message)
    return P.unknown
  }
}

function flags(optional: boolean, rest: boolean): { optional?: true; rest?: true } {
  return { ...(optional ? { optional: true as const } : {}), ...(rest ? { rest: true as const } : {}) }
}

function withArgs(name: string, args: TypeRef[]): TypeRef {
  return args.length > 0 ? { kind: 'ref', name, args } : { kind: 'ref', name }
}

function prop(symbol: MorphSymbol, type: TypeRef, optional: boolean): Property {
  return { name: symbol.getName(), type, ...(optional ? { optional: true } : {}) }
}

/** Flattens nested unions, folds `true | false` into boolean and drops duplicates, keeping order. */
export function union(types: readonly TypeRef[]): TypeRef {
  const flat = types.flatMap((t) => (t.kind === 'union' ? t.types : [t]))
  const hasTrue = flat.some((t) => t.kind === 'literal' && t.value === true)
  const hasFalse = flat.some((t) => t.kind === 'literal' && t.value === false)
  const folded = hasTrue && hasFalse ? flat.map((t) => (t.kind === 'literal' && typeof t.value === 'boolean' ? P.boolean : t)) : flat
  const seen = new Set<string>()
  const unique = folded.filter((t) => {
    const key = JSON.stringify(t)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
  return unique.length === 1 ? unique[0]! : { kind: 'union', types: unique }
}

/** True for declarations outside the project: TypeScript's lib and node_modules. */
export function isLibrary(symbol: MorphSymbol | undefined): boolean {
  const file = symbol?.getDeclarations()[0]?.getSourceFile()
  if (!file) return true
  // IMService's own wire types (presence answers and the like) are described like the project's,
  // also when the framework is an installed package under node_modules.
  if (file.getFilePath().startsWith(`${frameworkRoot}/`)) return false
  return file.isFromExternalLibrary() || file.isInNodeModules() || /\/typescript\/lib\/lib\.[^/]*\.d\.ts$/.test(file.getFilePath())
}

/** The property name as JSON spells it (quotes removed). */
export function memberName(member: Node): string {
  const symbol = member.getSymbol()
  if (symbol) return symbol.getName()
  return Node.hasName(member) ? member.getName() : member.getText()
}

export function docOf(node: Node): string | undefined {
  if (!Node.isJSDocable(node)) return undefined
  // Only the block right above the declaration: a file's opening comment also attaches to its first one.
  const text = node.getJsDocs().at(-1)?.getDescription().trim() ?? ''
  return text.length > 0 ? text.replace(/\r\n/g, '\n') : undefined
}
