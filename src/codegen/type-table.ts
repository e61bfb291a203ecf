/**
 * The named types the hubs reference, turned into self-contained declarations. References are
 * recorded first and their bodies read afterwards (a queue), so recursive types work. Interfaces
 * and classes are flattened (inherited properties copied in), which every emitter can print.
 */
import { relative } from 'node:path'
import { Node } from 'ts-morph'
import type { ClassDeclaration, EnumDeclaration, ExpressionWithTypeArguments, InterfaceDeclaration, TypeAliasDeclaration } from 'ts-morph'
import type { CodegenProblem } from './codegen-error.js'
import type { Property, TypeDeclaration, TypeRef } from './model.js'
import { docOf, isLibrary, memberName, TypeRefBuilder } from './type-refs.js'
import type { Site } from './type-refs.js'
import { resolveAlias } from './framework.js'
import { substitute } from './type-substitute.js'

export { substitute }

type Declared = InterfaceDeclaration | ClassDeclaration | TypeAliasDeclaration | EnumDeclaration

export class TypeTable {
  readonly problems: CodegenProblem[] = []
  readonly refs = new TypeRefBuilder(this)
  private readonly names = new Map<Node, string>()
  private readonly byName = new Map<string, Node>()
  private readonly declarations = new Map<string, TypeDeclaration>()
  private readonly queue: Declared[] = []

  constructor(private readonly root: string) {}

  /** Records a reference to a declaration and returns its name, or undefined if it is not a declaration we carry. */
  reference(declaration: Node, site: Site): string | undefined {
    const known = this.names.get(declaration)
    if (known !== undefined) return known
    if (!(Node.isInterfaceDeclaration(declaration) || Node.isClassDeclaration(declaration) || Node.isTypeAliasDeclaration(declaration) || Node.isEnumDeclaration(declaration))) {
      return undefined
    }
    const name = declaration.getName()
    if (name === undefined) return undefined
    const other = this.byName.get(name)
    if (other !== undefined) {
      this.problem(site, `two different types are named '${name}' (${this.path(other)} and ${this.path(declaration)}); generated code needs unique names, rename one`)
      return name
    }
    this.names.set(declaration, name)
    this.byName.set(name, declaration)
    this.queue.push(declaration)
    return name
  }

  problem(site: Site, message: string): void {
    this.problems.push({ file: this.path(site.node), line: site.node.getStartLineNumber(), member: site.member, message })
  }

  /** Reads the body of every referenced declaration (and of what those reference), sorted by name. */
  drain(): Record<string, TypeDeclaration> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      const declaration = this.declare(next)
      this.declarations.set(declaration.name, declaration)
    }
    return Object.fromEntries([...this.declarations.entries()].sort(([a], [b]) => compare(a, b)))
  }

  path(node: Node): string {
    return relative(this.root, node.getSourceFile().getFilePath()).replace(/\\/g, '/')
  }

  private declare(node: Declared): TypeDeclaration {
    const name = node.getName() ?? ''
    const base = { name, file: this.path(node), ...optionalDoc(docOf(node)) }
    if (Node.isEnumDeclaration(node)) {
      return { kind: 'enum', ...base, members: node.getMembers().map((m) => ({ name: m.getName(), value: m.getValue() ?? m.getName() })) }
    }
    const typeParameters = node.getTypeParameters().map((p) => p.getName())
    const generic = typeParameters.length > 0 ? { typeParameters } : {}
    if (Node.isTypeAliasDeclaration(node)) {
      const site = { node, member: name }
      const typeNode = node.getTypeNode()
      return { kind: 'alias', ...base, ...generic, type: typeNode ? this.refs.fromNode(typeNode, site) : this.refs.fromType(node.getType(), site) }
    }
    const { properties, additional } = this.members(node, new Set())
    return { kind: 'interface', ...base, ...generic, properties, ...(additional ? { additional } : {}) }
  }

  /** Own and inherited properties of an interface or class, bases first, own ones replacing them. */
  private members(node: InterfaceDeclaration | ClassDeclaration, visiting: Set<Node>): { properties: Property[]; additional?: TypeRef } {
    const byName = new Map<string, Property>()
    let additional: TypeRef | undefined
    visiting.add(node)
    const name = node.getName() ?? 'class'
    for (const heritage of heritageOf(node)) {
      const inherited = this.inherited(heritage, visiting, { node: heritage, member: name })
      for (const p of inherited.properties) byName.set(p.name, p)
      additional = inherited.additional ?? additional
    }
    for (const member of node.getMembers()) {
      const site: Site = { node: member, member: `${name}.${memberName(member)}` }
      if (Node.isPropertySignature(member)) byName.set(memberName(member), this.refs.property(member, site))
      else if (Node.isIndexSignatureDeclaration(member)) additional = this.refs.indexSignature(member, site)
      else if (Node.isPropertyDeclaration(member)) {
        if (member.isStatic() || member.hasModifier('private') || member.hasModifier('protected')) continue
        byName.set(memberName(member), this.refs.property(member, site))
      } else if (Node.isConstructorDeclaration(member)) {
        for (const p of member.getParameters().filter((p) => p.isParameterProperty())) {
          byName.set(p.getName(), this.refs.property(p, { node: p, member: `${name}.${p.getName()}` }))
        }
      } else {
        this.problem(site, `'${name}' has methods or accessors; a payload is plain data, declare it as an interface`)
      }
    }
    return { properties: [...byName.values()], ...(additional ? { additional } : {}) }
  }

  private inherited(heritage: ExpressionWithTypeArguments, visiting: Set<Node>, site: Site): { properties: Property[]; additional?: TypeRef } {
    const symbol = resolveAlias(heritage.getExpression().getSymbol())
    const declaration = symbol?.getDeclarations()[0]
    const interfaceLike = declaration && (Node.isInterfaceDeclaration(declaration) || Node.isClassDeclaration(declaration))
    if (!interfaceLike || isLibrary(symbol) || visiting.has(declaration)) {
      const shape = this.refs.fromType(heritage.getType(), site)
      return shape.kind === 'object' ? { properties: [...shape.properties], ...(shape.additional ? { additional: shape.additional } : {}) } : { properties: [] }
    }
    const base = this.members(declaration, visiting)
    const parameters = declaration.getTypeParameters().map((p) => p.getName())
    const args = heritage.getTypeArguments().map((a) => this.refs.fromNode(a, site))
    const bindings = new Map(parameters.map((p, i) => [p, args[i] ?? { kind: 'primitive', name: 'unknown' } as TypeRef]))
    return {
      properties: base.properties.map((p) => ({ ...p, type: substitute(p.type, bindings) })),
      ...(base.additional ? { additional: substitute(base.additional, bindings) } : {}),
    }
  }
}

function heritageOf(node: InterfaceDeclaration | ClassDeclaration): ExpressionWithTypeArguments[] {
  if (Node.isInterfaceDeclaration(node)) return node.getExtends()
  const base = node.getExtends()
  return base ? [base] : []
}

function optionalDoc(doc: string | undefined): { doc?: string } {
  return doc ? { doc } : {}
}

/** Locale-independent ordering, so output is the same on every machine. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
