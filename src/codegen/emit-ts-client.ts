/**
 * HubDefinition -> `generated/client/<hub>.ts`: a typed wrapper over a HubConnection of
 * @microsoft/signalr (its only import). `invoke`/`send` are keyed by hub method, `on`/`off` by
 * client method (from the client interface of `HubBase<T>` or @ClientMethod); a hub that declares
 * none (DefaultHub: services choose the method
 * name at run time) gets a generic `on<A>(method: string, ...)` instead.
 */
import { headerLines } from './header.js'
import type { HubDefinition, HubModel, Parameter, TupleElement, TypeRef } from './model.js'
import { camelCase, constantCase, jsDoc, propertyKey, tsString } from './names.js'
import { printDeclaration, printTuple, printType } from './ts-printer.js'
import { typeClosure } from './type-closure.js'

export function clientFileName(hub: HubDefinition): string {
  return `client/${hub.name}.ts`
}

export function emitTsClient(hub: HubDefinition, model: HubModel): string {
  const c = hub.className
  const methods = `${c}Methods`
  const clientMethods = `${c}ClientMethods`
  const streams = `${c}Streams`
  const typed = hub.clientMethods.length > 0
  const invocable = hub.methods.filter((m) => !m.stream)
  const streaming = hub.methods.filter((m) => m.stream)
  const clientResults = `${c}ClientResults`
  const answering = hub.clientMethods.filter((m) => m.returns !== undefined)
  const roots = [
    ...hub.methods.flatMap((m) => [...m.parameters.map((p) => p.type), m.returns]),
    ...hub.clientMethods.flatMap((m) => [...m.parameters.map((p) => p.type), ...(m.returns ? [m.returns] : [])]),
  ]
  const lines: string[] = [
    ...headerLines(hub.file),
    "import { HubConnectionBuilder } from '@microsoft/signalr'",
    `import type { HubConnection, IHttpConnectionOptions, IRetryPolicy${streaming.length > 0 ? ', IStreamResult' : ''}${hub.methods.some((m) => m.parameters.some((p) => p.stream)) ? ', Subject' : ''} } from '@microsoft/signalr'`,
    '',
    `/** Route of ${c}: connect to the server's base URL plus this path. */`,
    `export const ${constantCase(c)}_PATH = ${tsString(hub.path)}`,
  ]
  for (const declaration of typeClosure(roots, model.types)) lines.push('', ...printDeclaration(declaration))

  lines.push('', `/** What clients may call on ${c}: arguments and the result the invocation completes with. */`, `export interface ${methods} {`)
  for (const m of invocable) lines.push(`  ${propertyKey(m.name)}: { args: ${printTuple(m.parameters.map(element))}; result: ${printType(m.returns)} }`)
  lines.push('}')
  if (streaming.length > 0) {
    lines.push('', `/** Streams clients may open on ${c} (connection.stream): arguments and the type of each item. */`, `export interface ${streams} {`)
    for (const m of streaming) lines.push(`  ${propertyKey(m.name)}: { args: ${printTuple(m.parameters.map(element))}; item: ${printType(m.returns)} }`)
    lines.push('}')
  }
  if (typed) {
    lines.push('', `/** What ${c} calls on clients (its client interface): the arguments each handler receives. */`, `export interface ${clientMethods} {`)
    for (const m of hub.clientMethods) lines.push(`  ${propertyKey(m.name)}: ${printTuple(m.parameters.map(element))}`)
    lines.push('}')
  }
  if (answering.length > 0) {
    lines.push('', `/** What the handlers of ${c}'s client methods answer when the server asks for a result. */`, `export interface ${clientResults} {`)
    for (const m of answering) lines.push(`  ${propertyKey(m.name)}: ${printType(m.returns!)}`)
    lines.push('}')
  }

  const answer = answering.length > 0 ? `M extends keyof ${clientResults} ? ${clientResults}[M] | Promise<${clientResults}[M]> : void` : 'void'
  // A handler that may answer is not comparable to the client's void one: cast through unknown.
  const cast = answering.length > 0 ? 'unknown as ' : ''
  const handler = typed ? `(...args: ${clientMethods}[M]) => ${answer}` : '(...args: A) => void'
  const onGeneric = typed ? `M extends keyof ${clientMethods}` : 'A extends unknown[] = unknown[]'
  const onMethod = typed ? 'method: M' : 'method: string'
  lines.push(
    '',
    ...jsDoc(hub.doc),
    `export interface ${c}Proxy {`,
    '  readonly connection: HubConnection',
    '  start(): Promise<void>',
    '  stop(): Promise<void>',
    '  /** Calls a hub method and resolves with its result (rejects with the server\'s error). */',
    `  invoke<M extends keyof ${methods}>(method: M, ...args: ${methods}[M]['args']): Promise<${methods}[M]['result']>`,
    '  /** Calls a hub method without waiting for its result. */',
    `  send<M extends keyof ${methods}>(method: M, ...args: ${methods}[M]['args']): Promise<void>`,
    ...(streaming.length > 0
      ? ['  /** Opens a server-to-client stream; subscribe() to its items. */', `  stream<M extends keyof ${streams}>(method: M, ...args: ${streams}[M]['args']): IStreamResult<${streams}[M]['item']>`]
      : []),
    ...(typed ? [] : ['  /** Method names are chosen by the services at run time: name the argument types you expect. */']),
    `  on<${onGeneric}>(${onMethod}, handler: ${handler}): void`,
    `  off<${onGeneric}>(${onMethod}, handler?: ${handler}): void`,
    '}',
    '',
    `export interface ${c}ConnectionOptions {`,
    '  /** Supplies the access token (sent as access_token or Authorization: Bearer). */',
    '  readonly accessTokenFactory?: () => string | Promise<string>',
    '  /** true: SignalR\'s default delays (0, 2, 10, 30 s); an array of delays in ms; or a retry policy. */',
    '  readonly automaticReconnect?: boolean | number[] | IRetryPolicy',
    '  /** Further options of the HTTP connection: transport, headers, skipNegotiation, logger... */',
    '  readonly http?: IHttpConnectionOptions',
    '  /** Last word on the builder: logging, hub protocol, timeouts. */',
    '  readonly configure?: (builder: HubConnectionBuilder) => HubConnectionBuilder',
    '}',
    '',
    `/** Wraps an existing connection to ${c}. */`,
    `export function ${camelCase(c)}Proxy(connection: HubConnection): ${c}Proxy {`,
    '  return {',
    '    connection,',
    '    start: () => connection.start(),',
    '    stop: () => connection.stop(),',
    '    invoke: (method: string, ...args: unknown[]) => connection.invoke(method, ...args),',
    '    send: (method: string, ...args: unknown[]) => connection.send(method, ...args),',
    ...(streaming.length > 0 ? ['    stream: (method: string, ...args: unknown[]) => connection.stream(method, ...args),'] : []),
    // The typed handler is stored as SignalR's untyped one; the interface above is what callers see.
    `    on: <${onGeneric}>(${onMethod}, handler: ${handler}) => connection.on(method, handler as ${cast}(...args: unknown[]) => void),`,
    `    off: <${onGeneric}>(${onMethod}, handler?: ${handler}) => (handler ? connection.off(method, handler as ${cast}(...args: unknown[]) => void) : connection.off(method)),`,
    '  }',
    '}',
    '',
    `/** Builds a connection to ${c} at \`baseUrl\` (e.g. https://im.example.com); call start() on the result. */`,
    `export function create${c}Connection(baseUrl: string, options: ${c}ConnectionOptions = {}): ${c}Proxy {`,
    '  const http: IHttpConnectionOptions = options.accessTokenFactory ? { ...options.http, accessTokenFactory: options.accessTokenFactory } : { ...options.http }',
    `  let builder = new HubConnectionBuilder().withUrl(baseUrl.replace(/\\/+$/, '') + ${constantCase(c)}_PATH, http)`,
    '  const reconnect = options.automaticReconnect',
    '  if (reconnect === true) builder = builder.withAutomaticReconnect()',
    '  else if (Array.isArray(reconnect)) builder = builder.withAutomaticReconnect(reconnect)',
    '  else if (reconnect) builder = builder.withAutomaticReconnect(reconnect)',
    '  if (options.configure) builder = options.configure(builder)',
    `  return ${camelCase(c)}Proxy(builder.build())`,
    '}',
  )
  return lines.join('\n') + '\n'
}

/** A stream argument is passed as a SignalR Subject the caller pushes items into. */
function element(p: Parameter): TupleElement {
  const type: TypeRef = p.stream ? { kind: 'ref', name: 'Subject', args: [p.type] } : p.type
  return { type, name: p.name, ...(p.optional ? { optional: true } : {}), ...(p.rest ? { rest: true } : {}) }
}
