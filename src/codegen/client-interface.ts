/**
 * Reads a hub's client methods from its client interface, the `T` of `extends HubBase<T>`
 * (through any project base classes), and merges them with the older `@ClientMethod`
 * declarations: both may name a method only if they agree on its parameters.
 */
import { Node } from 'ts-morph'
import type { ClassDeclaration, MethodSignature, Type } from 'ts-morph'
import { isFrameworkHubSymbol } from './framework.js'
import { readParameters, readReturn } from './hub-members.js'
import type { ClientMethodModel, Parameter } from './model.js'
import { printTuple } from './ts-printer.js'
import type { Site } from './type-refs.js'
import type { TypeTable } from './type-table.js'

/** A client method read from source, with where it was declared (for messages). */
export interface DeclaredClientMethod {
  readonly model: ClientMethodModel
  readonly site: Site
  /** `@ClientMethod` or the interface's name. */
  readonly source: string
  /** The parameters as written, for messages. */
  readonly text: string
}

export function parametersText(method: { getParameters(): readonly Node[] }): string {
  return `(${method.getParameters().map((p) => p.getText()).join(', ')})`
}

/**
 * The client interface's type: the `T` of the hub's `clients: HubClients<T>` as the checker sees
 * it on this class, so a project base class (`AppHub<T> extends HubBase<T>`) passes it on.
 */
function clientInterfaceType(cls: ClassDeclaration): Type | undefined {
  const clients = cls.getType().getProperty('clients')
  if (!clients || !clients.getDeclarations().some((d) => isFrameworkHubSymbol(d.getSymbol()))) return undefined
  return clients.getTypeAtLocation(cls).getTypeArguments()[0]
}

export function readClientInterface(cls: ClassDeclaration, table: TypeTable): DeclaredClientMethod[] {
  const type = clientInterfaceType(cls)
  if (!type) return []
  const source = type.getSymbol()?.getName() ?? type.getAliasSymbol()?.getName() ?? 'the client interface'
  const name = source === '__type' ? 'the client interface' : source
  const methods: DeclaredClientMethod[] = []
  for (const property of type.getProperties()) {
    const declaration = property.getDeclarations()[0]
    if (!declaration) continue
    const member = `${name}.${property.getName()}`
    const site: Site = { node: declaration, member }
    if (!Node.isMethodSignature(declaration) && !Node.isMethodDeclaration(declaration)) {
      table.problem(site, `a client interface lists the methods the server calls on clients; declare '${property.getName()}' as a method: ${property.getName()}(...args): void`)
      continue
    }
    const method = declaration as MethodSignature
    const returns = readReturn(method, table, member)
    const answers = !(returns.kind === 'primitive' && (returns.name === 'void' || returns.name === 'undefined'))
    methods.push({
      model: { name: property.getName(), parameters: readParameters(method, table, member), ...(answers ? { returns } : {}) },
      site,
      source: name,
      text: parametersText(method),
    })
  }
  return methods
}

/**
 * One entry per name (names are case-insensitive, as the clients match them). A name both
 * sources declare must have the same parameter types; the interface's entry is kept.
 */
export function mergeClientMethods(fromInterface: readonly DeclaredClientMethod[], fromDecorators: readonly DeclaredClientMethod[], table: TypeTable): ClientMethodModel[] {
  const byName = new Map<string, DeclaredClientMethod>()
  for (const method of fromInterface) byName.set(method.model.name.toLowerCase(), method)
  const merged = [...fromInterface.map((m) => m.model)]
  for (const method of fromDecorators) {
    const other = byName.get(method.model.name.toLowerCase())
    if (!other) {
      merged.push(method.model)
      continue
    }
    if (signature(method.model.parameters) !== signature(other.model.parameters) || method.model.name !== other.model.name) {
      table.problem(
        method.site,
        `client method '${method.model.name}' is declared by @ClientMethod as ${method.model.name}${method.text} and by ${other.source} as ${other.model.name}${other.text}; ` +
          `declare it once, in ${other.source} (or make both agree)`,
      )
    }
  }
  return merged
}

/** Parameter types as the wire sees them: names left out, optional and rest kept. */
function signature(parameters: readonly Parameter[]): string {
  return `(${printTuple(parameters.map((p) => ({ type: p.type, ...(p.optional ? { optional: true } : {}), ...(p.rest ? { rest: true } : {}) }))).slice(1, -1)})`
}
