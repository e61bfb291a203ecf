/**
 * HubModel -> `generated/asyncapi.json`, an AsyncAPI 3.0 document of every subject. The
 * application it describes is IMService: `receive` operations are the subjects it subscribes to
 * (services publish there), `send` operations the ones it publishes (services subscribe there).
 * Wildcards become channel parameters: `im.default.receive.>` is `im.default.receive.{topic}`.
 * The envelope and lifecycle event schemas name their properties as `hubs.envelopeCasing` has
 * IMService write them.
 */
import { PASCAL_NOTE, wireName, wireTypes } from './envelope-casing.js'
import type { CasingOptions } from './envelope-casing.js'
import { headerNote } from './header.js'
import { ENVELOPE_TYPE, eventType, LIFECYCLE_TYPE, PRESENCE_ERROR_TYPE } from './model.js'
import type { EnvelopeCasing, HubDefinition, HubModel, OperationModel, PublicationModel, SubjectParameter, SubscriptionModel, TypeRef } from './model.js'
import { describeEvent, describeOperation, operationTypes } from './own-subjects.js'
import { declarationSchema, schemaRef, toSchema } from './json-schema.js'
import type { JsonSchema } from './json-schema.js'
import { typeClosure } from './type-closure.js'

export const asyncApiFileName = 'asyncapi.json'

interface Channel {
  readonly id: string
  readonly subject: string
  readonly parameters: readonly SubjectParameter[]
  readonly action: 'send' | 'receive'
  readonly summary: string
  readonly payload: JsonSchema
  /** For a request: the answer, sent to the request's NATS reply subject. */
  readonly reply?: JsonSchema
}

export function emitAsyncApi(hubModel: HubModel, options: CasingOptions = {}): string {
  const casing = options.envelopeCasing
  // Every schema is written from the types as they travel; only IMService's own documents differ.
  const model: HubModel = { ...hubModel, types: wireTypes(hubModel.types, casing) }
  const channels = model.hubs.flatMap((hub) => [
    ...hub.subscriptions.map((s) => subscribed(hub, s, model)),
    ...hub.publications.map((p) => published(hub, p, model, casing)),
    ...(hub.operations ?? []).map((o) => served(hub, o, model)),
  ])
  const roots: TypeRef[] = [
    { kind: 'ref', name: LIFECYCLE_TYPE },
    ...model.hubs.flatMap((h) => [
      ...h.subscriptions.map((s) => s.payload),
      ...h.publications.flatMap((p): TypeRef[] => (p.kind === 'invocation' ? p.invocations.map((i) => i.args) : [{ kind: 'ref', name: eventType(p.kind) }])),
      ...operationTypes(h.operations ?? []),
    ]),
  ]
  const schemas = typeClosure(roots, model.types).filter((d) => !d.typeParameters || d.typeParameters.length === 0)
  const document = {
    'x-generated': headerNote(`${model.hubsDir}/`),
    asyncapi: '3.0.0',
    info: {
      title: 'IMService hubs',
      version: '1.0.0',
      description: `The NATS subjects of the IMService hubs. Operations are from IMService's side: receive = services publish and IMService subscribes; send = IMService publishes and services subscribe. Payloads are UTF-8 JSON.${casing === 'pascal' ? ` ${PASCAL_NOTE}` : ''}`,
    },
    defaultContentType: 'application/json',
    channels: Object.fromEntries(channels.flatMap((ch) => [
      [ch.id, {
        address: address(ch.subject, ch.parameters),
        messages: { [ch.id]: { $ref: `#/components/messages/${ch.id}` } },
        ...(ch.parameters.length > 0 ? { parameters: Object.fromEntries(ch.parameters.map((p) => [p.name, { description: p.wildcard === '>' ? 'one or more subject tokens' : 'one subject token' }])) } : {}),
      }],
      // The answer goes to the request's own reply subject, which has no fixed address.
      ...(ch.reply ? [[`${ch.id}.reply`, { address: null, messages: { [`${ch.id}.reply`]: { $ref: `#/components/messages/${ch.id}.reply` } } }]] : []),
    ])),
    operations: Object.fromEntries(channels.map((ch) => [ch.id, {
      action: ch.action,
      channel: { $ref: `#/channels/${ch.id}` },
      summary: ch.summary,
      messages: [{ $ref: `#/channels/${ch.id}/messages/${ch.id}` }],
      ...(ch.reply ? { reply: { address: { description: "the request's NATS reply subject", location: '$message.header#/replyTo' }, channel: { $ref: `#/channels/${ch.id}.reply` }, messages: [{ $ref: `#/channels/${ch.id}.reply/messages/${ch.id}.reply` }] } } : {}),
    }])),
    components: {
      messages: Object.fromEntries(channels.flatMap((ch) => [
        [ch.id, { name: ch.id, contentType: 'application/json', payload: ch.payload }],
        ...(ch.reply ? [[`${ch.id}.reply`, { name: `${ch.id}.reply`, contentType: 'application/json', payload: ch.reply }]] : []),
      ])),
      schemas: Object.fromEntries(schemas.map((d) => [d.name, declarationSchema(d, model.types)])),
    },
  }
  return JSON.stringify(document, null, 2) + '\n'
}

function subscribed(hub: HubDefinition, s: SubscriptionModel, model: HubModel): Channel {
  return { id: `${hub.name}.${s.handler}`, subject: s.subject, parameters: s.parameters, action: 'receive', summary: `${hub.className}.${s.handler} handles each message.`, payload: toSchema(s.payload, model.types) }
}

function published(hub: HubDefinition, p: PublicationModel, model: HubModel, casing: EnvelopeCasing | undefined): Channel {
  const id = `${hub.name}.${p.name}`
  if (p.kind !== 'invocation') {
    const text = describeEvent(p.kind, hub.className)
    return { id, subject: p.subject, parameters: p.parameters, action: 'send', summary: `${text[0]!.toUpperCase()}${text.slice(1)}.`, payload: schemaRef(eventType(p.kind)) }
  }
  const envelope = model.types[ENVELOPE_TYPE]
  const base = envelope ? (declarationSchema(envelope, model.types) as { properties?: Record<string, JsonSchema> }) : {}
  const variants = p.invocations.map((i) => ({ ...base, properties: { ...base.properties, [wireName('method', casing)]: { const: i.method }, [wireName('args', casing)]: toSchema(i.args, model.types) } }))
  const methods = p.invocations.map((i) => `${hub.className}.${i.method}`).join(', ')
  return { id, subject: p.subject, parameters: p.parameters, action: 'send', summary: `Each invocation of ${methods}, forwarded.`, payload: variants.length === 1 ? variants[0]! : { oneOf: variants } }
}

/** A presence request (answered) or command IMService serves for the hub. */
function served(hub: HubDefinition, o: OperationModel, model: HubModel): Channel {
  const id = `${hub.name}.${o.name}`
  const text = describeOperation(o)
  const summary = `${text[0]!.toUpperCase()}${text.slice(1)}.`
  if (o.kind === 'command') return { id, subject: o.subject, parameters: [], action: 'receive', summary, payload: toSchema(o.payload, model.types) }
  const reply = { oneOf: [toSchema(o.answer, model.types), schemaRef(PRESENCE_ERROR_TYPE)] }
  return { id, subject: o.subject, parameters: [], action: 'receive', summary: `${summary} A NATS request; the answer, or an error for a malformed request, goes to its reply subject.`, payload: toSchema(o.request, model.types), reply }
}

/** `im.chat.room.*.post` -> `im.chat.room.{token1}.post`. */
function address(subject: string, parameters: readonly SubjectParameter[]): string {
  let next = 0
  return subject.split('.').map((token) => (token === '*' || token === '>' ? `{${parameters[next++]?.name ?? 'token'}}` : token)).join('.')
}
