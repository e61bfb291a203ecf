/**
 * HubDefinition -> `generated/publishers/<hub>.ts`, for Node services: the hub's subjects, a
 * typed publisher per @Subscribe subject (core NATS and JetStream) and a typed subscriber per
 * subject IMService publishes (forwarded invocations, connected / disconnected). It imports only
 * the NATS client packages, so a service needs nothing of IMService. Dates and Uint8Arrays take
 * .NET's JSON forms both ways (ISO 8601, base64; wire-runtime.ts), so a C# service reads them as
 * DateTimeOffset and byte[]. The envelope and lifecycle event types name their properties as
 * `hubs.envelopeCasing` has IMService write them.
 */
import { PASCAL_NOTE, wireName, wireTypes } from './envelope-casing.js'
import type { CasingOptions } from './envelope-casing.js'
import { headerLines } from './header.js'
import { ENVELOPE_TYPE, eventType, LIFECYCLE_TYPE, PRESENCE_ERROR_TYPE } from './model.js'
import { describeEvent, describeOperation, operationTypes } from './own-subjects.js'
import type { HubDefinition, HubModel, OperationModel, PublicationModel, SubjectParameter, SubscriptionModel, TypeRef } from './model.js'
import { jsDoc, pascalCase, propertyKey, tsString } from './names.js'
import { printDeclaration, printTuple, printType } from './ts-printer.js'
import { typeClosure } from './type-closure.js'
import { shapeText, wireRuntime } from './wire-runtime.js'
import { WireShapes } from './wire-shapes.js'
import type { WireShape } from './wire-shapes.js'

export function publishersFileName(hub: HubDefinition): string {
  return `publishers/${hub.name}.ts`
}

export function emitTsPublishers(hub: HubDefinition, model: HubModel, options: CasingOptions = {}): string {
  const c = hub.className
  const casing = options.envelopeCasing
  const method = wireName('method', casing)
  const args = wireName('args', casing)
  const envelope: TypeRef = { kind: 'ref', name: ENVELOPE_TYPE }
  const lifecycle: TypeRef = { kind: 'ref', name: LIFECYCLE_TYPE }
  const operations = hub.operations ?? []
  const requests = operations.some((o) => o.kind === 'request')
  const publishes = hub.subscriptions.length > 0 || operations.some((o) => o.kind === 'command')
  const wildcards = [...hub.subscriptions, ...hub.publications].some((x) => x.parameters.length > 0)
  const events = [...new Set(hub.publications.flatMap((p) => (p.kind === 'invocation' ? [] : [eventType(p.kind)])))].map((name): TypeRef => ({ kind: 'ref', name }))
  const roots = [
    envelope,
    lifecycle,
    ...events,
    ...hub.subscriptions.map((s) => s.payload),
    ...hub.publications.flatMap((p) => (p.kind === 'invocation' ? p.invocations.map((i) => i.args) : [])),
    ...operationTypes(operations),
  ]
  const natsTypes = ['Msg', 'NatsConnection', ...(publishes ? ['PublishOptions'] : []), ...(requests ? ['RequestOptions'] : []), 'Subscription']
  const lines: string[] = [
    ...headerLines(hub.file),
    ...(casing === 'pascal' ? [`// ${PASCAL_NOTE}`] : []),
    // Only what the file uses, so it passes noUnusedLocals in the consumer's project.
    ...(hub.subscriptions.length > 0 ? ["import { jetstream } from '@nats-io/jetstream'", "import type { JetStreamPublishOptions, PubAck } from '@nats-io/jetstream'"] : []),
    `import type { ${natsTypes.join(', ')} } from '@nats-io/transport-node'`,
  ]
  for (const declaration of typeClosure(roots, wireTypes(model.types, casing))) lines.push('', ...printDeclaration(declaration))
  const shapes = new WireShapes(model.types)
  const payloadShapes = new Map(hub.subscriptions.map((sub) => [sub, bytesShape(shapes, sub.payload)]))
  const argsShapes = new Map(hub.publications.map((p) => [p, forwardedShapes(shapes, p)]))
  const receive = [...argsShapes.values()].some((entries) => entries.length > 0)
  const runtime = wireRuntime(shapes, { send: [...payloadShapes.values()].some((shape) => shape !== undefined), receive })
  // The runtime's blocks each end with a blank line; the next block adds its own.
  if (runtime.length > 0) lines.push('', ...[...runtime, ...(receive ? reviveArgs(method, args) : [])].slice(0, -1))
  lines.push(
    '',
    `/** A forwarded invocation: the ${ENVELOPE_TYPE} of one hub method, with its arguments typed. */`,
    `export type ForwardedInvocation<TMethod extends string, TArgs extends readonly unknown[]> = Omit<${ENVELOPE_TYPE}, '${method}' | '${args}'> & {`,
    `  readonly ${method}: TMethod`,
    `  readonly ${args}: TArgs`,
    '}',
    '',
    `/** The NATS subjects of ${c}; \`*\` and \`>\` mark the parts the functions below fill in. */`,
    `export const ${c}Subjects = {`,
  )
  for (const s of hub.subscriptions) lines.push(`  /** Services publish; IMService runs ${c}.${s.handler}. */`, `  ${propertyKey(s.handler)}: ${tsString(s.subject)},`)
  for (const p of hub.publications) lines.push(`  /** IMService publishes: ${describe(p, c)}. */`, `  ${propertyKey(p.name)}: ${tsString(p.subject)},`)
  for (const o of operations) lines.push(`  /** ${o.kind === 'request' ? 'Services ask (NATS request), IMService answers' : 'Services publish, IMService acts'}: ${describeOperation(o)}. */`, `  ${propertyKey(o.name)}: ${tsString(o.subject)},`)
  lines.push('} as const', '', ...SUBSCRIBER_OPTIONS, ...(wildcards ? FILL_SUBJECT : []), ...SUBSCRIBE_JSON, ...(requests ? READ_ANSWER : []))

  for (const s of hub.subscriptions) lines.push('', ...publisher(c, s, payloadShapes.get(s)))
  for (const p of hub.publications) lines.push('', ...subscriber(c, p, argsShapes.get(p) ?? []))
  for (const o of operations) lines.push('', ...operation(o))
  return lines.join('\n') + '\n'
}

/** The payload's shape when it holds bytes: JSON.stringify writes a Date as ISO 8601 already. */
function bytesShape(shapes: WireShapes, type: TypeRef): WireShape | undefined {
  const shape = shapes.of(type)
  return shape && shapes.holdsBytes(shape) ? shape : undefined
}

/** Per forwarded method, the shape of its arguments where they hold a Date or bytes. */
function forwardedShapes(shapes: WireShapes, p: PublicationModel): [string, WireShape][] {
  if (p.kind !== 'invocation') return []
  return p.invocations.flatMap((i) => {
    const shape = shapes.of(i.args)
    return shape ? [[i.method, shape] as [string, WireShape]] : []
  })
}

function publisher(hubClass: string, s: SubscriptionModel, shape: WireShape | undefined): string[] {
  const name = `publish${pascalCase(s.handler)}`
  const tokens = s.parameters.map((p) => `${p.name}: string, `).join('')
  const subject = s.parameters.length === 0 ? tsString(s.subject) : `fillSubject(${tsString(s.subject)}, [${s.parameters.map((p) => p.name).join(', ')}])`
  const payload = printType(s.payload)
  const doc = `Publishes to \`${s.subject}\`: IMService runs ${hubClass}.${s.handler} with the payload`
  const json = shape ? `JSON.stringify(toWire(payload, ${shapeText(shape)}))` : 'JSON.stringify(payload)'
  return [
    ...jsDoc(`${doc}.`),
    `export function ${name}(nc: NatsConnection, ${tokens}payload: ${payload}, options?: PublishOptions): void {`,
    `  nc.publish(${subject}, ${json}, options)`,
    '}',
    '',
    ...jsDoc(`${doc}, through JetStream (a stream must capture the subject); resolves with the stream's acknowledgement.`),
    `export function ${name}JetStream(nc: NatsConnection, ${tokens}payload: ${payload}, options?: Partial<JetStreamPublishOptions>): Promise<PubAck> {`,
    `  return jetstream(nc).publish(${subject}, ${json}, options)`,
    '}',
  ]
}

function subscriber(hubClass: string, p: PublicationModel, argsShapes: readonly [string, WireShape][]): string[] {
  const name = `subscribe${pascalCase(p.name)}`
  // Methods forwarded to one subject arrive on one subscription, told apart by the envelope's method.
  const value = p.kind === 'invocation' ? p.invocations.map((i) => `ForwardedInvocation<${tsString(i.method)}, ${argsType(i.args)}>`).join(' | ') : eventType(p.kind)
  const tokenOptions = p.parameters.map((t) => `readonly ${t.name}?: string`).join('; ')
  const optionsType = tokenOptions ? `SubscriberOptions & { ${tokenOptions} }` : 'SubscriberOptions'
  const subject = p.parameters.length === 0 ? tsString(p.subject) : `fillSubject(${tsString(p.subject)}, [${p.parameters.map((t) => `options.${t.name}`).join(', ')}])`
  const narrow = p.parameters.length === 0 ? '' : ` Narrow it with ${p.parameters.map(describeToken).join(', ')}.`
  return [
    ...jsDoc(`Subscribes to \`${p.subject}\`: ${describe(p, hubClass)}.${narrow}`),
    `export function ${name}(nc: NatsConnection, handler: (message: ${value}, msg: Msg) => void | Promise<void>, options: ${optionsType} = {}): Subscription {`,
    argsShapes.length === 0
      ? `  return subscribeJson(nc, ${subject}, handler, options)`
      : `  return subscribeJson<${value}>(nc, ${subject}, (message, msg) => handler(reviveArgs(message, { ${argsShapes.map(([m, shape]) => `${propertyKey(m)}: ${shapeText(shape)}`).join(', ')} }), msg), options)`,
    '}',
  ]
}

function describe(p: PublicationModel, hubClass: string): string {
  if (p.kind !== 'invocation') return describeEvent(p.kind, hubClass)
  return `each invocation of ${p.invocations.map((i) => `${hubClass}.${i.method}`).join(', ')}`
}

function operation(o: OperationModel): string[] {
  const pascal = pascalCase(o.name)
  if (o.kind === 'command') {
    return [
      ...jsDoc(`Publishes to \`${o.subject}\`: ${describeOperation(o)}. A malformed payload is dropped (and answered with a ${PRESENCE_ERROR_TYPE} when sent as a request).`),
      `export function publish${pascal}(nc: NatsConnection, payload: ${printType(o.payload)}, options?: PublishOptions): void {`,
      `  nc.publish(${tsString(o.subject)}, JSON.stringify(payload), options)`,
      '}',
    ]
  }
  return [
    ...jsDoc(`Asks \`${o.subject}\`: ${describeOperation(o)}. Rejects with IMService's error text when it refuses the request as malformed, and as the NATS client does when no node answers in time (default 5 s).`),
    `export async function request${pascal}(nc: NatsConnection, request: ${printType(o.request)}, options?: Partial<RequestOptions>): Promise<${printType(o.answer)}> {`,
    `  return readAnswer<${printType(o.answer)}>(await nc.request(${tsString(o.subject)}, JSON.stringify(request), { timeout: 5000, ...options }))`,
    '}',
  ]
}

function describeToken(t: SubjectParameter): string {
  return t.wildcard === '>' ? `\`${t.name}\` (one or more tokens, default \`>\`)` : `\`${t.name}\` (one token, default \`*\`)`
}

/** Envelope args are an array: a tuple prints as is, anything else as a readonly array of it. */
function argsType(args: TypeRef): string {
  if (args.kind === 'tuple') return printTuple(args.elements)
  if (args.kind === 'array') return printType(args)
  return 'unknown[]'
}

/** `method` and `args`: the envelope's property names, as the casing has them travel. */
function reviveArgs(method: string, args: string): string[] {
  return [
    '/** A forwarded invocation with the Dates and Uint8Arrays of its arguments back, by method. */',
    `function reviveArgs<T extends { readonly ${method}: string; readonly ${args}: readonly unknown[] }>(message: T, shapes: { readonly [method: string]: WireShape }): T {`,
    `  fromWire(message.${args}, own(shapes, message.${method}))`,
    '  return message',
    '}',
    '',
  ]
}

/** Helpers the publishers files carry, so they depend on nothing but the NATS client. */
const SUBSCRIBER_OPTIONS = [
  'export interface SubscriberOptions {',
  '  /** Queue group: one member of the group handles each message. */',
  '  readonly queue?: string',
  '  /** Called for a message that is not JSON and for a handler that fails; default: the console, when there is one. */',
  '  readonly onError?: (error: unknown, msg: Msg) => void',
  '}',
  '',
]

const FILL_SUBJECT = [
  '/** Puts values into the wildcards of a subject, in order; an undefined value keeps the wildcard. */',
  'function fillSubject(pattern: string, values: readonly (string | undefined)[]): string {',
  '  let next = 0',
  "  return pattern.split('.').map((token) => {",
  "    if (token !== '*' && token !== '>') return token",
  '    const value = values[next++]',
  '    if (value === undefined) return token',
  "    const valid = token === '>' ? /^[^\\s.]+(\\.[^\\s.]+)*$/ : /^[^\\s.]+$/",
  '    if (!valid.test(value)) throw new Error(`${JSON.stringify(value)} cannot stand for "${token}" in ${pattern}`)',
  '    return value',
  "  }).join('.')",
  '}',
  '',
]

const READ_ANSWER = [
  '',
  `/** An answer, or its ${PRESENCE_ERROR_TYPE} thrown as an Error whose \`code\` says why. */`,
  'function readAnswer<T>(msg: Msg): T {',
  `  const answer = msg.json<T | ${PRESENCE_ERROR_TYPE}>()`,
  "  if (typeof answer === 'object' && answer !== null && 'error' in answer && 'code' in answer) {",
  `    throw Object.assign(new Error(answer.error), { code: answer.code })`,
  '  }',
  '  return answer as T',
  '}',
]

const SUBSCRIBE_JSON = [
  'function reportError(error: unknown, msg: Msg): void {',
  '  const console = (globalThis as { console?: { error(...data: unknown[]): void } }).console',
  '  console?.error(`message on ${msg.subject} failed:`, error)',
  '}',
  '',
  'function subscribeJson<T>(nc: NatsConnection, subject: string, handler: (message: T, msg: Msg) => void | Promise<void>, options: SubscriberOptions): Subscription {',
  '  const onError = options.onError ?? reportError',
  '  return nc.subscribe(subject, {',
  '    ...(options.queue === undefined ? {} : { queue: options.queue }),',
  '    callback: (error, msg) => {',
  '      if (error) return onError(error, msg)',
  "      // A throwing callback would reach the NATS client's reader, so every failure stays here.",
  '      try {',
  '        const result = handler(msg.json<T>(), msg)',
  '        if (result instanceof Promise) result.catch((failure: unknown) => onError(failure, msg))',
  '      } catch (failure) {',
  '        onError(failure, msg)',
  '      }',
  '    },',
  '  })',
  '}',
]
