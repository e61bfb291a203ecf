/**
 * HubDefinition -> `generated/client/<hub>.ts`: a typed wrapper over a HubConnection of
 * @microsoft/signalr (its only import). `invoke`/`send` are keyed by hub method, `on`/`off` by
 * client method (from the client interface of `HubBase<T>` or @ClientMethod); a hub that declares
 * none (DefaultHub: services choose the method name at run time) gets a generic
 * `on<A>(method: string, ...)` instead. Where the hub's types hold a Date or a Uint8Array, the
 * proxy turns their JSON forms (ISO 8601, base64) back on receipt and writes bytes as base64 on
 * send (wire-runtime.ts), so the declared types hold on both protocols.
 */
import { headerLines } from './header.js'
import type { HubDefinition, HubModel, Parameter, TupleElement, TypeRef } from './model.js'
import { camelCase, constantCase, jsDoc, propertyKey, tsString } from './names.js'
import { printDeclaration, printTuple, printType } from './ts-printer.js'
import { typeClosure } from './type-closure.js'
import { wireRuntime, shapeText } from './wire-runtime.js'
import { WireShapes } from './wire-shapes.js'
import type { WireShape } from './wire-shapes.js'

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
  const wire = wireTables(hub, new WireShapes(model.types))
  if (wire.lines.length > 0) lines.push('', ...wire.lines)

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
    ...(wire.clientShapes ? ['  const receiving = receivingHandlers()'] : []),
    '  return {',
    '    connection,',
    '    start: () => connection.start(),',
    '    stop: () => connection.stop(),',
    ...proxyMembers(wire, streaming.length > 0, onGeneric, onMethod, handler, cast),
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

interface WireTables {
  readonly lines: string[]
  readonly argumentShapes: boolean
  readonly resultShapes: boolean
  readonly clientShapes: boolean
}

/** The shape tables of the hub's methods, and the runtime that reads them; nothing when no type holds a Date or bytes. */
function wireTables(hub: HubDefinition, shapes: WireShapes): WireTables {
  const streams = hub.methods.some((m) => m.stream && shapes.of(m.returns) !== undefined)
  const table = (name: string, doc: string, entries: [string, WireShape | undefined][]): string[] => {
    const present = entries.filter((e): e is [string, WireShape] => e[1] !== undefined)
    return present.length === 0 ? [] : [`/** ${doc} */`, `const ${name}: { readonly [method: string]: WireShape } = {`, ...present.map(([m, shape]) => `  ${propertyKey(m)}: ${shapeText(shape)},`), '}', '']
  }
  // A client-to-server stream argument is a Subject, not data: its items are sent as they are.
  const argumentShape = (parameters: readonly Parameter[]): WireShape | undefined => shapes.of({ kind: 'tuple', elements: parameters.map((p) => (p.stream ? { type: { kind: 'primitive', name: 'unknown' } } : element(p))) })
  // Only bytes need marking on send: JSON.stringify writes a Date as ISO 8601 already.
  const sendShape = (parameters: readonly Parameter[]): WireShape | undefined => {
    const shape = argumentShape(parameters)
    return shape && shapes.holdsBytes(shape) ? shape : undefined
  }
  const args = table('ARGUMENT_SHAPES', 'Hub method arguments that hold bytes.', hub.methods.map((m) => [m.name, sendShape(m.parameters)]))
  const results = table('RESULT_SHAPES', 'Hub method results and stream items that hold bytes or dates.', hub.methods.map((m) => [m.name, shapes.of(m.returns)]))
  const client = table('CLIENT_METHOD_SHAPES', 'Client method arguments that hold bytes or dates.', hub.clientMethods.map((m) => [m.name, shapes.of({ kind: 'tuple', elements: m.parameters.map(element) })]))
  const flags = { argumentShapes: args.length > 0, resultShapes: results.length > 0, clientShapes: client.length > 0 }
  const runtime = wireRuntime(shapes, { send: flags.argumentShapes, receive: flags.resultShapes || flags.clientShapes })
  if (runtime.length === 0) return { lines: [], ...flags }
  return { lines: [...runtime, ...args, ...results, ...client, ...(flags.clientShapes ? RECEIVING_HANDLERS : []), ...(streams ? RECEIVING_STREAM : [])].slice(0, -1), ...flags }
}

function proxyMembers(wire: WireTables, streams: boolean, onGeneric: string, onMethod: string, handler: string, cast: string): string[] {
  const args = wire.argumentShapes ? '...(toWire(args, own(ARGUMENT_SHAPES, method)) as unknown[])' : '...args'
  const result = wire.resultShapes ? '.then((result) => fromWire(result, own(RESULT_SHAPES, method)) as never)' : ''
  const stream = wire.resultShapes ? `receivingStream(connection.stream(method, ${args}), own(RESULT_SHAPES, method))` : `connection.stream(method, ${args})`
  // The typed handler is stored as SignalR's untyped one; the interface above is what callers see.
  const untyped = wire.clientShapes ? 'receiving(method, handler)' : `handler as ${cast}(...args: unknown[]) => void`
  return [
    `    invoke: (method: string, ...args: unknown[]) => connection.invoke(method, ${args})${result},`,
    `    send: (method: string, ...args: unknown[]) => connection.send(method, ${args}),`,
    ...(streams ? [`    stream: (method: string, ...args: unknown[]) => ${stream},`] : []),
    `    on: <${onGeneric}>(${onMethod}, handler: ${handler}) => connection.on(method, ${untyped}),`,
    `    off: <${onGeneric}>(${onMethod}, handler?: ${handler}) => (handler ? connection.off(method, ${untyped}) : connection.off(method)),`,
  ]
}

const RECEIVING_STREAM = [
  '/** A server-to-client stream whose items are turned back before the subscriber sees them. */',
  'function receivingStream(stream: IStreamResult<unknown>, shape: WireShape | undefined): IStreamResult<never> {',
  '  if (shape === undefined) return stream',
  '  return {',
  '    subscribe: (subscriber) =>',
  '      stream.subscribe({',
  '        next: (item) => subscriber.next(fromWire(item, shape) as never),',
  '        error: (error: unknown) => subscriber.error(error),',
  '        complete: () => subscriber.complete(),',
  '      }),',
  '  }',
  '}',
  '',
]

const RECEIVING_HANDLERS = [
  '/** Wraps each handler once per method, so that `off` finds the wrapper `on` registered. */',
  'function receivingHandlers(): (method: string, handler: (...args: never) => void) => (...args: unknown[]) => void {',
  '  const wrappers = new WeakMap<object, Map<string, (...args: unknown[]) => void>>()',
  '  return (method, handler) => {',
  '    const untyped = handler as (...args: unknown[]) => void',
  '    const shape = own(CLIENT_METHOD_SHAPES, method)',
  '    if (shape === undefined) return untyped',
  '    let byMethod = wrappers.get(handler)',
  '    if (!byMethod) wrappers.set(handler, (byMethod = new Map()))',
  '    let wrapper = byMethod.get(method)',
  '    if (!wrapper) byMethod.set(method, (wrapper = (...args: unknown[]) => untyped(...(fromWire(args, shape) as unknown[]))))',
  '    return wrapper',
  '  }',
  '}',
  '',
]
