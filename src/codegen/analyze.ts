/**
 * Source -> HubModel. Reads every exported @Hub class of the hubs folder with ts-morph and never
 * runs it: decorators are found by resolving their symbols to src/hub/decorators.ts, their
 * arguments are read as literals, types come from the source. All problems of a run are
 * collected and thrown together as one CodegenError.
 */
import { relative, resolve } from 'node:path'
import { Node } from 'ts-morph'
import type { ClassDeclaration, Decorator, MethodDeclaration } from 'ts-morph'
import { validateSubject } from '../bus/subjects.js'
import { CodegenError } from './codegen-error.js'
import { decoratorArgs, staticOptions, staticString } from './decorator-args.js'
import { decoratorName, isFrameworkHubSymbol, resolveAlias } from './framework.js'
import type { DecoratorName } from './framework.js'
import { mergeClientMethods, parametersText, readClientInterface } from './client-interface.js'
import type { DeclaredClientMethod } from './client-interface.js'
import { readForwardCalls, readParameter, readParameters, readReturn, subjectParameters } from './hub-members.js'
import type { ForwardCall } from './hub-members.js'
import { camelCase } from './names.js'
import { defaultHubName, hubPath } from '../hub/hub-name.js'
import { hubOperations, OWN_TYPES } from './model.js'
import type { HubDefinition, HubMethodModel, HubModel, PublicationModel, SubscriptionModel } from './model.js'
import { openHubsProject } from './project.js'
import { compilerProblems } from './diagnostics.js'
import { checkUnique, hubVersion, refuseLookalike, refuseStaticMembers } from './hub-checks.js'
import { docOf } from './type-refs.js'
import type { Site } from './type-refs.js'
import { compare, TypeTable } from './type-table.js'

export interface AnalyzeOptions {
  readonly hubsDir: string
  /** Paths in the model are relative to this folder; default the working directory. */
  readonly root?: string
  /** Route prefix of hubs that set no path (config `hubs.pathPrefix`); default `/signalr-hubs`. */
  readonly pathPrefix?: string
}

export interface Analysis {
  readonly model: HubModel
  /** Absolute paths of the project files the model was read from (hubs and the types they use), for --watch. */
  readonly sourceFiles: readonly string[]
}

export function analyzeHubs(options: AnalyzeOptions): Analysis {
  const root = resolve(options.root ?? process.cwd())
  const opened = openHubsProject(options.hubsDir)
  const { project, hubFiles, envelopeFile } = opened
  // A model read from code that does not compile would silently lose hubs or methods.
  const compiler = compilerProblems(opened, root)
  if (compiler.length > 0) throw new CodegenError(compiler)
  const table = new TypeTable(root)
  for (const name of OWN_TYPES) {
    // Some are re-exported from where the code that reads them lives.
    const declaration = envelopeFile.getExportedDeclarations().get(name)?.find(Node.isInterfaceDeclaration)
    if (!declaration) throw new CodegenError([{ file: envelopeFile.getFilePath(), line: 1, member: '', message: `does not export the interface ${name}: the installed IMService is incomplete` }])
    table.reference(declaration, { node: declaration, member: name })
  }

  const hubs: HubDefinition[] = []
  const lines = new Map<HubDefinition, number>()
  for (const file of hubFiles) {
    for (const cls of file.getClasses()) {
      const hubDecorator = cls.getDecorators().find((d) => decoratorName(d) === 'Hub')
      if (!hubDecorator || !cls.isExported()) continue
      const hub = readHub(cls, hubDecorator, table, options.pathPrefix ?? '/signalr-hubs')
      hubs.push(hub)
      lines.set(hub, cls.getStartLineNumber())
    }
  }
  checkUnique(hubs, lines, table)
  const types = table.drain()
  if (table.problems.length > 0) {
    const sorted = [...table.problems].sort((a, b) => compare(a.file, b.file) || a.line - b.line || compare(a.message, b.message))
    throw new CodegenError(sorted)
  }
  const model: HubModel = {
    schema: 1,
    hubsDir: relative(root, resolve(options.hubsDir)).replace(/\\/g, '/') || '.',
    hubs: hubs.sort((a, b) => compare(a.name, b.name)),
    types,
  }
  const sourceFiles = project
    .getSourceFiles()
    .filter((f) => !f.isInNodeModules() && !f.isFromExternalLibrary() && !f.isDeclarationFile())
    .map((f) => f.getFilePath() as string)
    .sort(compare)
  return { model, sourceFiles }
}

export function readHub(cls: ClassDeclaration, decorator: Decorator, table: TypeTable, pathPrefix: string): HubDefinition {
  const className = cls.getName() ?? 'default'
  const options = staticOptions(decoratorArgs(decorator)[0], table, { node: decorator, member: `${className} @Hub` })
  const name = options.name ?? defaultHubName(className)
  const version = hubVersion(decoratorArgs(decorator)[0], table, { node: decorator, member: `${className} @Hub` })
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) {
    table.problem({ node: decorator, member: className }, `hub name "${name}" must be lower-case letters, digits, '-' or '_'`)
  }
  const methods: HubMethodModel[] = []
  const declaredClientMethods: DeclaredClientMethod[] = []
  const subscriptions: SubscriptionModel[] = []
  const forwards: ForwardCall[] = []

  const chain = classChain(cls)
  refuseStaticMembers(chain, table)
  for (const method of hubMethods(chain)) {
    const member = `${className}.${method.getName()}`
    for (const decorator of method.getDecorators()) {
      const kind = decoratorName(decorator)
      if (!kind) refuseLookalike(decorator, member, table)
      if (!kind || kind === 'Authorize') continue
      const site: Site = { node: decorator, member }
      const [first, second] = decoratorArgs(decorator)
      if (kind === 'HubMethod' || kind === 'Forward' || kind === 'HubStream') {
        const options = staticOptions(kind === 'Forward' ? second : first, table, site)
        const invoked = options.name ?? method.getName()
        const parameters = readParameters(method, table, member)
        const stream = kind === 'HubStream'
        methods.push({ name: invoked, parameters, returns: readReturn(method, table, member, stream), ...(stream ? { stream: true } : {}) })
        forwards.push(...readForwardCalls(method, table, member, invoked))
        if (kind === 'Forward') {
          const subject = staticString(first, table, site, 'the @Forward subject')
          const problem = subject === undefined ? undefined : validateSubject(subject, { wildcards: false })
          if (problem) table.problem(site, `subject "${subject}" is not valid: ${problem}`)
          else if (subject !== undefined) {
            const args = { kind: 'tuple', elements: parameters.map((p) => ({ type: p.type, name: p.name, ...(p.optional ? { optional: true } : {}), ...(p.rest ? { rest: true } : {}) })) } as const
            forwards.push({ subject, parameters: [], method: invoked, args, topic: false })
          }
        }
      } else if (kind === 'Subscribe') {
        const subject = staticString(first, table, site, 'the @Subscribe subject')
        const queue = staticOptions(second, table, site).queue
        const problem = subject === undefined ? undefined : validateSubject(subject, { wildcards: true })
        if (problem) table.problem(site, `subject "${subject}" is not valid: ${problem}`)
        if (subject === undefined || problem) continue
        const payloadParameter = method.getParameters()[0]
        const payload = payloadParameter ? readParameter(payloadParameter, 0, table, member).type : ({ kind: 'primitive', name: 'unknown' } as const)
        subscriptions.push({ subject, parameters: subjectParameters(subject), handler: method.getName(), ...(queue ? { queue } : {}), payload })
      } else if (kind === 'ClientMethod') {
        const options = staticOptions(first, table, site)
        declaredClientMethods.push({ model: { name: options.name ?? method.getName(), parameters: readParameters(method, table, member) }, site, source: '@ClientMethod', text: parametersText(method) })
      } else {
        table.problem(site, `@${kind satisfies DecoratorName} belongs on a class, not a method`)
      }
    }
  }
  checkNames(methods, `${className}: two hub methods are named`, cls, table)
  checkNames(declaredClientMethods.map((m) => m.model), `${className}: two @ClientMethod declarations are named`, cls, table)
  const fromInterface = readClientInterface(cls, table)
  checkNames(fromInterface.map((m) => m.model), `${className}: two client interface methods are named`, cls, table)
  const clientMethods = mergeClientMethods(fromInterface, declaredClientMethods, table)
  const publications = publicationsOf(forwards, name)
  const doc = docOf(cls)
  return {
    className,
    name,
    path: hubPath(name, options.path, pathPrefix),
    file: table.path(cls),
    ...(doc ? { doc } : {}),
    ...(version !== undefined ? { version } : {}),
    methods: methods.sort((a, b) => compare(a.name, b.name)),
    clientMethods: clientMethods.sort((a, b) => compare(a.name, b.name)),
    subscriptions: subscriptions.sort((a, b) => compare(a.subject, b.subject)),
    publications: publications.sort((a, b) => compare(a.subject, b.subject) || compare(a.kind, b.kind)),
    operations: hubOperations(name),
  }
}

/** One publication per subject: methods forwarded to the same subject share a subscriber. */
function publicationsOf(forwards: readonly ForwardCall[], hubName: string): PublicationModel[] {
  const bySubject = new Map<string, ForwardCall[]>()
  for (const f of forwards) bySubject.set(f.subject, [...(bySubject.get(f.subject) ?? []), f])
  const publications: PublicationModel[] = [...bySubject.values()].map((calls) => {
    const invocations = calls.map(({ method, args, topic }) => ({ method, args, topic })).sort((a, b) => compare(a.method, b.method))
    const unique = invocations.filter((inv, i) => i === 0 || inv.method !== invocations[i - 1]!.method)
    const subject = calls[0]!.subject
    const name = unique.length === 1 ? unique[0]!.method : subjectName(subject, hubName)
    return { kind: 'invocation', name, subject, parameters: calls[0]!.parameters, invocations: unique }
  })
  for (const kind of ['connected', 'disconnected'] as const) publications.push({ kind, name: kind, subject: `im.${hubName}.${kind}`, parameters: [] })
  for (const kind of ['online', 'offline'] as const) publications.push({ kind, name: `user${kind === 'online' ? 'Online' : 'Offline'}`, subject: `im.${hubName}.user.${kind}`, parameters: [] })
  return publications
}

/** `im.default.receive.>` -> `receive`: the subject without the hub prefix and the wildcards. */
function subjectName(subject: string, hubName: string): string {
  const tokens = subject.split('.').filter((t) => t !== '*' && t !== '>')
  const rest = tokens[0] === 'im' && tokens[1] === hubName ? tokens.slice(2) : tokens
  return camelCase(rest.join('-')) || 'invocations'
}

/** The class and its project base classes (metadata is inherited), base first, up to HubBase. */
function classChain(cls: ClassDeclaration): ClassDeclaration[] {
  const chain: ClassDeclaration[] = []
  for (let current: ClassDeclaration | undefined = cls; current && chain.length < 16; ) {
    chain.unshift(current)
    const base = current.getExtends()
    const symbol = resolveAlias(base?.getExpression().getSymbol())
    if (!symbol || isFrameworkHubSymbol(symbol)) break
    const declaration = symbol.getDeclarations()[0]
    current = declaration && Node.isClassDeclaration(declaration) && !declaration.getSourceFile().isInNodeModules() ? declaration : undefined
  }
  return chain
}

function hubMethods(chain: readonly ClassDeclaration[]): MethodDeclaration[] {
  const byName = new Map<string, MethodDeclaration>()
  for (const c of chain) for (const m of c.getInstanceMethods()) if (m.getDecorators().length > 0 || !byName.has(m.getName())) byName.set(m.getName(), m)
  return [...byName.values()]
}

/** ASP.NET Core matches method names ignoring case and allows no overloads; the server refuses both. */
function checkNames(items: readonly { name: string }[], message: string, cls: ClassDeclaration, table: TypeTable): void {
  const seen = new Set<string>()
  for (const item of items) {
    const key = item.name.toLowerCase()
    if (seen.has(key)) table.problem({ node: cls, member: cls.getName() ?? '' }, `${message} "${item.name}" (names are case-insensitive)`)
    seen.add(key)
  }
}
