/**
 * Reads the parts of one hub method: parameters, the result (Promise<T> unwrapped), and the
 * subjects its body hands invocations to through `this.forward(subject, method, args, topic?)`.
 */
import { Node, SyntaxKind } from 'ts-morph'
import type { CallExpression, Expression, MethodDeclaration, MethodSignature, ParameterDeclaration, Type, TypeNode } from 'ts-morph'
import { validateSubject } from '../bus/subjects.js'
import { staticString } from './decorator-args.js'
import { isFrameworkHubSymbol } from './framework.js'
import type { InvocationModel, Parameter, SubjectParameter, TypeRef } from './model.js'
import { isLibrary } from './type-refs.js'
import type { Site } from './type-refs.js'
import type { TypeTable } from './type-table.js'

export function readParameters(method: MethodDeclaration | MethodSignature, table: TypeTable, member: string): Parameter[] {
  return method.getParameters().map((parameter, i) => readParameter(parameter, i, table, member))
}

export function readParameter(parameter: ParameterDeclaration, i: number, table: TypeTable, member: string): Parameter {
  const name = Node.isIdentifier(parameter.getNameNode()) ? parameter.getName() : `arg${i}`
  const site: Site = { node: parameter, member: `${member}(${name})` }
  const typeNode = parameter.getTypeNode()
  // A client-to-server stream arrives as an AsyncIterable; the wire carries its items.
  const item = typeNode ? wrappedNode(typeNode, STREAMS) : wrappedType(parameter.getType(), STREAMS)
  const declared = item ?? typeNode
  const type = !declared && !parameter.hasInitializer()
    ? table.refs.problem(site, 'the parameter needs a type annotation')
    : declared === undefined ? table.refs.fromType(parameter.getType(), site)
    : isNode(declared) ? table.refs.fromNode(declared, site) : table.refs.fromType(declared, site)
  return {
    name,
    type,
    ...(parameter.hasQuestionToken() || parameter.hasInitializer() ? { optional: true } : {}),
    ...(parameter.isRestParameter() ? { rest: true } : {}),
    ...(item !== undefined ? { stream: true } : {}),
  }
}

const PROMISES = new Set(['Promise', 'PromiseLike'])
const STREAMS = new Set(['AsyncIterable', 'AsyncIterableIterator', 'AsyncGenerator'])

/**
 * What the invocation completes with: the declared or inferred return type with Promise
 * unwrapped, or for a stream (`@HubStream`) the item type of its AsyncIterable.
 */
export function readReturn(method: MethodDeclaration | MethodSignature, table: TypeTable, member: string, stream = false): TypeRef {
  const node = method.getReturnTypeNode()
  const site: Site = { node: node ?? method.getNameNode(), member: `${member} (result)` }
  const wrappers = stream ? STREAMS : PROMISES
  if (node) {
    const inner = wrappedNode(node, wrappers)
    if (stream && !inner) return table.refs.problem(site, '@HubStream methods return an AsyncIterable<T> (for example an async generator)')
    return table.refs.fromNode(inner ?? node, site)
  }
  const inner = wrappedType(method.getReturnType(), wrappers)
  if (stream && !inner) return table.refs.problem(site, '@HubStream methods return an AsyncIterable<T> (for example an async generator)')
  return table.refs.fromType(inner ?? method.getReturnType(), site)
}

function isNode(value: TypeNode | Type): value is TypeNode {
  return value instanceof Node
}

/** The T of `Wrapper<T>` written in source, for a library wrapper in `names`. */
function wrappedNode(node: TypeNode, names: ReadonlySet<string>): TypeNode | undefined {
  if (!Node.isTypeReference(node)) return undefined
  const symbol = node.getTypeName().getSymbol()
  if (!symbol || !names.has(symbol.getName()) || !isLibrary(symbol)) return undefined
  return node.getTypeArguments()[0]
}

function wrappedType(type: Type, names: ReadonlySet<string>): Type | undefined {
  const symbol = type.getSymbol()
  if (!symbol || !names.has(symbol.getName()) || !isLibrary(symbol)) return undefined
  return type.getTypeArguments()[0]
}

/** Names the wildcards of a subject pattern: `token1`, `token2`... and `tail` for `>`. */
export function subjectParameters(subject: string): SubjectParameter[] {
  let n = 0
  return subject.split('.').flatMap((token): SubjectParameter[] => {
    if (token === '*') return [{ name: `token${++n}`, wildcard: '*' }]
    if (token === '>') return [{ name: 'tail', wildcard: '>' }]
    return []
  })
}

/** Every `this.forward(...)` in the method body that resolves to HubBase.forward. */
export interface ForwardCall extends InvocationModel {
  readonly subject: string
  readonly parameters: readonly SubjectParameter[]
}

export function readForwardCalls(method: MethodDeclaration, table: TypeTable, member: string, hubMethod: string): ForwardCall[] {
  const publications: ForwardCall[] = []
  for (const call of method.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    if (!isForwardCall(call)) continue
    const site: Site = { node: call, member }
    const [subjectArg, methodArg, argsArg, topicArg] = call.getArguments().filter(Node.isExpression)
    const pattern = subjectPattern(subjectArg, table, site)
    if (!pattern) continue
    const named = staticString(methodArg, table, site, 'the method argument of this.forward(...)')
    const args = argsArg ? table.refs.fromType(argsArg.getType(), site) : ({ kind: 'tuple', elements: [] } as TypeRef)
    publications.push({ ...pattern, method: named ?? hubMethod, args, topic: topicArg !== undefined })
  }
  return publications
}

function isForwardCall(call: CallExpression): boolean {
  const callee = call.getExpression()
  if (!Node.isPropertyAccessExpression(callee) || callee.getName() !== 'forward') return false
  if (callee.getExpression().getKind() !== SyntaxKind.ThisKeyword) return false
  return isFrameworkHubSymbol(callee.getNameNode().getSymbol())
}

/**
 * A string literal is the subject; in a template literal each substitution is a wildcard: `>` at
 * the end (a topic may hold several tokens), `*` elsewhere, named after the expression.
 */
function subjectPattern(expression: Expression | undefined, table: TypeTable, site: Site, depth = 0): { subject: string; parameters: SubjectParameter[] } | undefined {
  // `const subject = \`...\`` declared before the call reads like the literal itself.
  if (expression && Node.isIdentifier(expression) && depth < 4) {
    const declaration = expression.getSymbol()?.getDeclarations()[0]
    const initializer = declaration && Node.isVariableDeclaration(declaration) && declaration.getVariableStatement()?.getDeclarationKind() === 'const' ? declaration.getInitializer() : undefined
    if (initializer) return subjectPattern(initializer, table, site, depth + 1)
  }
  if (expression && Node.isTemplateExpression(expression)) {
    let subject = expression.getHead().getLiteralText()
    const parameters: SubjectParameter[] = []
    const spans = expression.getTemplateSpans()
    spans.forEach((span, i) => {
      const tail = span.getLiteral().getLiteralText()
      const last = i === spans.length - 1 && tail === ''
      const inner = span.getExpression()
      const name = wildcardName(inner) ?? `token${i + 1}`
      parameters.push({ name, wildcard: last ? '>' : '*' })
      subject += (last ? '>' : '*') + tail
    })
    return checked(subject, parameters, table, site)
  }
  const subject = staticString(expression, table, site, 'the subject of this.forward(...)')
  return subject === undefined ? undefined : checked(subject, [], table, site)
}

/** `${topic}`, `${msg.topic}` and `${checkTopic(topic)}` all name the wildcard `topic`. */
function wildcardName(expression: Expression): string | undefined {
  if (Node.isIdentifier(expression)) return expression.getText()
  if (Node.isPropertyAccessExpression(expression)) return expression.getName()
  if (Node.isCallExpression(expression)) {
    const first = expression.getArguments()[0]
    return first && Node.isExpression(first) ? wildcardName(first) : undefined
  }
  return undefined
}

function checked(subject: string, parameters: SubjectParameter[], table: TypeTable, site: Site): { subject: string; parameters: SubjectParameter[] } | undefined {
  const problem = validateSubject(subject, { wildcards: parameters.length > 0 })
  if (problem) {
    table.problem(site, `subject "${subject}" is not valid: ${problem}`)
    return undefined
  }
  return { subject, parameters }
}
