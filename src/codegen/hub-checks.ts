/**
 * Checks on hub classes that the server makes at start-up too, made here from source so that
 * `im generate` refuses what `im serve` would: decorators on static members, decorators that
 * look like ours but are not, two hubs with one name or one route. Also reads `@Hub({ version })`.
 */
import { Node } from 'ts-morph'
import type { ClassDeclaration, Decorator, Expression } from 'ts-morph'
import { DECORATOR_NAMES, decoratorName } from './framework.js'
import type { HubDefinition } from './model.js'
import type { TypeTable } from './type-table.js'

/** Our decorators on a static member: the server calls hub code on instances, so they would never run. */
export function refuseStaticMembers(chain: readonly ClassDeclaration[], table: TypeTable): void {
  for (const cls of chain) {
    for (const member of [...cls.getStaticMethods(), ...cls.getStaticProperties()]) {
      for (const decorator of member.getDecorators()) {
        const kind = decoratorName(decorator)
        if (!kind) continue
        const where = `${cls.getName() ?? 'default'}.${member.getName()}`
        table.problem({ node: decorator, member: where }, `@${kind} is on the static member ${where}; hub methods and handlers run on the hub instance, remove 'static'`)
      }
    }
  }
}

/** `@HubMethod` imported from somewhere else than IMService would silently drop the method. */
export function refuseLookalike(decorator: Decorator, member: string, table: TypeTable): void {
  const name = decorator.getName()
  if ((DECORATOR_NAMES as readonly string[]).includes(name)) {
    table.problem({ node: decorator, member }, `@${name} here is not IMService's decorator; import it from IMService (the method would not be served)`)
  }
}

/** `@Hub({ version: 2 })`: a positive integer literal, or undefined when not set. */
export function hubVersion(options: Expression | undefined, table: TypeTable, site: { node: Node; member: string }): number | undefined {
  if (!options || !Node.isObjectLiteralExpression(options)) return undefined
  const property = options.getProperty('version')
  if (!property) return undefined
  const value = Node.isPropertyAssignment(property) ? property.getInitializer() : undefined
  const number = value && Node.isNumericLiteral(value) ? Number(value.getLiteralValue()) : NaN
  if (!Number.isInteger(number) || number < 1) {
    table.problem(site, '@Hub version must be a positive integer literal (1, 2, ...), so im generate can read it without running the hub')
    return undefined
  }
  return number
}

/** Hubs must differ in name and in route (compared as the server does: names exactly, paths ignoring case). */
export function checkUnique(hubs: readonly HubDefinition[], lines: ReadonlyMap<HubDefinition, number>, table: TypeTable): void {
  const keys = [['name', (h: HubDefinition) => h.name], ['path', (h: HubDefinition) => h.path.toLowerCase()]] as const
  for (const [what, key] of keys) {
    const seen = new Map<string, HubDefinition>()
    for (const hub of hubs) {
      const other = seen.get(key(hub))
      if (!other) {
        seen.set(key(hub), hub)
        continue
      }
      const value = what === 'name' ? hub.name : hub.path
      const at = (h: HubDefinition): string => `${h.className} (${h.file}:${lines.get(h) ?? 1})`
      table.problems.push({ file: hub.file, line: lines.get(hub) ?? 1, member: hub.className, message: `hub ${what} "${value}" is used by both ${at(other)} and ${at(hub)}; the server refuses to start with both` })
    }
  }
}
