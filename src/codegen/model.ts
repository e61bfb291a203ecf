/**
 * The hub model: what `im generate` knows about the hubs, as plain JSON (kysely-codegen's
 * "metadata" step). The analyzer produces it from source; every emitter reads only this. It is
 * committed as `generated/hub-model.json`, so `--check` can tell breaking changes from the last
 * generation. No line numbers or tool versions: an unrelated edit must not change it.
 */

/**
 * A type as the wire sees it. `date` (a Date) and `bytes` (a Uint8Array) have their own kinds
 * because each protocol carries them in its own form, as ASP.NET Core does for DateTimeOffset and
 * byte[]: ISO 8601 and base64 strings in JSON, timestamp and bin in MessagePack.
 */
export type TypeRef =
  | { readonly kind: 'primitive'; readonly name: PrimitiveName }
  | { readonly kind: 'literal'; readonly value: string | number | boolean }
  | { readonly kind: 'date' }
  | { readonly kind: 'bytes' }
  | { readonly kind: 'array'; readonly element: TypeRef }
  | { readonly kind: 'tuple'; readonly elements: readonly TupleElement[] }
  | { readonly kind: 'union'; readonly types: readonly TypeRef[] }
  | ObjectTypeRef
  /** A named type of the `types` table, with type arguments when it is generic. */
  | { readonly kind: 'ref'; readonly name: string; readonly args?: readonly TypeRef[] }
  | { readonly kind: 'typeParameter'; readonly name: string }

export type PrimitiveName = 'string' | 'number' | 'boolean' | 'null' | 'undefined' | 'unknown' | 'void' | 'never'

/** An anonymous object type; `additional` is the value type of a string index signature (Record<string, T>). */
export interface ObjectTypeRef {
  readonly kind: 'object'
  readonly properties: readonly Property[]
  readonly additional?: TypeRef
}

export interface TupleElement {
  readonly type: TypeRef
  readonly name?: string
  readonly optional?: boolean
  /** `...rest: T[]`: `type` is the array type. */
  readonly rest?: boolean
}

export interface Property {
  readonly name: string
  readonly type: TypeRef
  readonly optional?: boolean
  readonly readonly?: boolean
  readonly doc?: string
}

interface DeclarationBase {
  readonly name: string
  /** Project-relative path of the declaring file (posix separators). */
  readonly file: string
  readonly doc?: string
  readonly typeParameters?: readonly string[]
}

/** Interfaces and property-only classes; inherited members are flattened in. */
export interface InterfaceDeclaration extends DeclarationBase {
  readonly kind: 'interface'
  readonly properties: readonly Property[]
  readonly additional?: TypeRef
}

export interface AliasDeclaration extends DeclarationBase {
  readonly kind: 'alias'
  readonly type: TypeRef
}

export interface EnumDeclaration extends DeclarationBase {
  readonly kind: 'enum'
  readonly members: readonly { readonly name: string; readonly value: string | number }[]
}

export type TypeDeclaration = InterfaceDeclaration | AliasDeclaration | EnumDeclaration

export interface Parameter {
  readonly name: string
  readonly type: TypeRef
  readonly optional?: boolean
  /** `...args: T[]`: `type` is the array type. */
  readonly rest?: boolean
  /** A client-to-server stream (`AsyncIterable<T>`): `type` is the item type. */
  readonly stream?: boolean
}

export interface HubMethodModel {
  /** The name clients invoke. */
  readonly name: string
  readonly parameters: readonly Parameter[]
  /** What the invocation completes with (Promise<T> unwrapped), or for a stream the item type. */
  readonly returns: TypeRef
  /** `@HubStream`: a server-to-client stream of `returns` items (`connection.stream(...)`). */
  readonly stream?: boolean
}

/** A method the server calls on clients: from the hub's client interface or `@ClientMethod`. */
export interface ClientMethodModel {
  readonly name: string
  readonly parameters: readonly Parameter[]
  /**
   * What the client's handler answers when hub code asks for it (`invoke`, client results),
   * Promise unwrapped; absent for a method that answers nothing (void).
   */
  readonly returns?: TypeRef
}

/** One wildcard of a subject pattern, in order: `*` (one token) or `>` (one or more, last). */
export interface SubjectParameter {
  readonly name: string
  readonly wildcard: '*' | '>'
}

/** A subject IMService subscribes to for this hub (`@Subscribe`): services publish here. */
export interface SubscriptionModel {
  readonly subject: string
  readonly parameters: readonly SubjectParameter[]
  /** The handler's property name; names the generated publisher. */
  readonly handler: string
  readonly queue?: string
  readonly payload: TypeRef
}

/** A subject IMService publishes to for this hub: services subscribe here. */
export type PublicationModel =
  | {
      readonly kind: 'invocation'
      /** Names the generated subscriber: the method when only one publishes here, else from the subject. */
      readonly name: string
      readonly subject: string
      readonly parameters: readonly SubjectParameter[]
      /** The hub methods whose invocations are published here, by method name. */
      readonly invocations: readonly InvocationModel[]
    }
  | { readonly kind: EventKind; readonly name: string; readonly subject: string; readonly parameters: readonly SubjectParameter[] }

/** Events IMService publishes of its own: a connection opened or closed, a user came online or went offline. */
export type EventKind = 'connected' | 'disconnected' | 'online' | 'offline'

/**
 * A subject IMService serves for every hub besides the hub's own: services ask (`request`,
 * answered on the NATS reply subject) or command (`command`, a plain publish). Presence today.
 */
export type OperationModel =
  | { readonly kind: 'request'; readonly name: string; readonly subject: string; readonly request: TypeRef; readonly answer: TypeRef }
  | { readonly kind: 'command'; readonly name: string; readonly subject: string; readonly payload: TypeRef }

/** One hub method forwarded to a subject (`@Forward`, or `this.forward(...)` in its body). */
export interface InvocationModel {
  readonly method: string
  /** Type of the envelope's `args`: a tuple for `@Forward`. */
  readonly args: TypeRef
  /** True when the envelope carries the client's `topic`. */
  readonly topic: boolean
}

export interface HubDefinition {
  readonly className: string
  /** Name used in subjects (`im.<name>.*`). */
  readonly name: string
  /** Route clients connect to. */
  readonly path: string
  /** Project-relative path of the file declaring the hub. */
  readonly file: string
  readonly doc?: string
  /**
   * `@Hub({ version })` when set: raising it acknowledges the breaking changes of this hub since
   * the committed contract (docs/codegen.md, "Breaking changes").
   */
  readonly version?: number
  readonly methods: readonly HubMethodModel[]
  readonly clientMethods: readonly ClientMethodModel[]
  readonly subscriptions: readonly SubscriptionModel[]
  readonly publications: readonly PublicationModel[]
  /** Requests and commands of IMService itself (absent in models written before there were any). */
  readonly operations?: readonly OperationModel[]
}

export interface HubModel {
  /** Shape version of this document; changes only when this file's types do. */
  readonly schema: 1
  /** The folder the hubs were read from, project-relative. */
  readonly hubsDir: string
  readonly hubs: readonly HubDefinition[]
  /** Every named type the hubs reference, plus IMService's own envelope types, sorted by name. */
  readonly types: Readonly<Record<string, TypeDeclaration>>
}

/** Property names of what IMService publishes (`hubs.envelopeCasing`): `connectionId` or `ConnectionId`. */
export type EnvelopeCasing = 'camel' | 'pascal'

/** Names of the types IMService publishes itself; always present in `types`. */
export const ENVELOPE_TYPE = 'InvocationEnvelope'
export const LIFECYCLE_TYPE = 'LifecycleEvent'
export const PRESENCE_EVENT_TYPE = 'UserPresenceEvent'
export const PRESENCE_ERROR_TYPE = 'PresenceError'
/** Every type IMService's own subjects use, read from src/hub/envelope.ts. */
export const OWN_TYPES = [
  ENVELOPE_TYPE,
  LIFECYCLE_TYPE,
  PRESENCE_EVENT_TYPE,
  PRESENCE_ERROR_TYPE,
  'PresenceUserRequest',
  'PresenceUserAnswer',
  'PresenceUsersRequest',
  'PresenceUsersAnswer',
  'PresenceGroupRequest',
  'PresenceGroupAnswer',
  'DisconnectRequest',
] as const

/** The document type of an event IMService publishes. */
export function eventType(kind: EventKind): string {
  return kind === 'online' || kind === 'offline' ? PRESENCE_EVENT_TYPE : LIFECYCLE_TYPE
}

/** The requests and commands every hub serves (presence), in subject order. */
export function hubOperations(hubName: string): OperationModel[] {
  const ref = (name: string): TypeRef => ({ kind: 'ref', name })
  const prefix = `im.${hubName}`
  return [
    { kind: 'command', name: 'disconnect', subject: `${prefix}.disconnect`, payload: ref('DisconnectRequest') },
    { kind: 'request', name: 'presenceGroup', subject: `${prefix}.presence.group`, request: ref('PresenceGroupRequest'), answer: ref('PresenceGroupAnswer') },
    { kind: 'request', name: 'presenceUser', subject: `${prefix}.presence.user`, request: ref('PresenceUserRequest'), answer: ref('PresenceUserAnswer') },
    { kind: 'request', name: 'presenceUsers', subject: `${prefix}.presence.users`, request: ref('PresenceUsersRequest'), answer: ref('PresenceUsersAnswer') },
  ]
}
