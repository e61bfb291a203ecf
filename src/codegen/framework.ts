/**
 * Finds IMService's own declarations in a ts-morph program: the decorators, HubBase and the
 * envelope types. A decorator counts when its identifier resolves to the function declared in
 * src/hub/decorators.ts, however it was imported or renamed (tsoa matches by name and misses
 * aliases). Codegen never imports these modules: it only compares declaration paths.
 */
import { existsSync, realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Node } from 'ts-morph'
import type { Decorator, SourceFile, Symbol as MorphSymbol } from 'ts-morph'

export const DECORATOR_NAMES = ['Hub', 'HubMethod', 'HubStream', 'Forward', 'Subscribe', 'ClientMethod', 'Authorize'] as const
export type DecoratorName = (typeof DECORATOR_NAMES)[number]

/** Our source file, or its declaration file when this runs compiled from dist/ (the installed package). */
function ownFile(relative: string): string {
  const source = fileURLToPath(new URL(relative, import.meta.url))
  const path = existsSync(source) ? source : source.replace(/\.ts$/, '.d.ts')
  try {
    return realpathSync(path).replace(/\\/g, '/')
  } catch {
    return path.replace(/\\/g, '/')
  }
}

/** The folder holding our modules: src/, or dist/src/ in the installed package. */
export const frameworkRoot = ownFile('..')

export const frameworkFiles = {
  decorators: ownFile('../hub/decorators.ts'),
  hub: ownFile('../hub/hub.ts'),
  envelope: ownFile('../hub/envelope.ts'),
} as const

/** The symbol a name finally stands for, through imports and re-exports. */
export function resolveAlias(symbol: MorphSymbol | undefined): MorphSymbol | undefined {
  let current = symbol
  for (let i = 0; current?.isAlias() && i < 16; i++) current = current.getAliasedSymbol()
  return current
}

function declaredIn(symbol: MorphSymbol | undefined, file: string): boolean {
  return resolveAlias(symbol)?.getDeclarations().some((d) => d.getSourceFile().getFilePath() === file) ?? false
}

/** Which of our decorators this is, or undefined for anyone else's. */
export function decoratorName(decorator: Decorator): DecoratorName | undefined {
  const call = decorator.getCallExpression()
  const callee = call ? call.getExpression() : decorator.getExpression()
  const nameNode = Node.isPropertyAccessExpression(callee) ? callee.getNameNode() : callee
  const symbol = resolveAlias(nameNode.getSymbol())
  if (!symbol || !declaredIn(symbol, frameworkFiles.decorators)) return undefined
  const name = symbol.getName()
  return (DECORATOR_NAMES as readonly string[]).includes(name) ? (name as DecoratorName) : undefined
}

/** True when the symbol is HubBase (or its `forward` method) from src/hub/hub.ts. */
export function isFrameworkHubSymbol(symbol: MorphSymbol | undefined): boolean {
  return declaredIn(symbol, frameworkFiles.hub)
}

export function envelopeFile(sourceFiles: readonly SourceFile[]): SourceFile | undefined {
  return sourceFiles.find((f) => f.getFilePath() === frameworkFiles.envelope)
}
