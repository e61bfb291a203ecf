/**
 * Reads decorator arguments without running them: string literals, constants of a literal type
 * and object literals of those. What only the running program could know is a problem.
 */
import { Node } from 'ts-morph'
import type { Decorator, Expression } from 'ts-morph'
import type { Site } from './type-refs.js'
import type { TypeTable } from './type-table.js'

export function staticString(expression: Expression | undefined, table: TypeTable, site: Site, what: string): string | undefined {
  if (!expression) return undefined
  if (Node.isStringLiteral(expression) || Node.isNoSubstitutionTemplateLiteral(expression)) return expression.getLiteralValue()
  const type = expression.getType()
  if (type.isStringLiteral()) return type.getLiteralValue() as string
  table.problem(site, `${what} must be a string literal or a constant, so im generate can read it without running the hub`)
  return undefined
}

/** The string properties of an options object literal (`{ name: 'x', path: '/y' }`). */
export function staticOptions(expression: Expression | undefined, table: TypeTable, site: Site): Record<string, string> {
  const options: Record<string, string> = {}
  if (!expression) return options
  if (!Node.isObjectLiteralExpression(expression)) {
    table.problem(site, 'decorator options must be an object literal, so im generate can read them without running the hub')
    return options
  }
  for (const property of expression.getProperties()) {
    if (!Node.isPropertyAssignment(property)) continue
    const value = property.getInitializer()
    // Only string options shape the contract (name, path, queue); others (roles) are not read here.
    if (value && (Node.isStringLiteral(value) || Node.isNoSubstitutionTemplateLiteral(value) || value.getType().isStringLiteral())) {
      const text = staticString(value, table, site, property.getName())
      if (text !== undefined) options[property.getName()] = text
    }
  }
  return options
}

export function decoratorArgs(decorator: Decorator): Expression[] {
  return decorator.getCallExpression()?.getArguments().filter(Node.isExpression) ?? []
}
