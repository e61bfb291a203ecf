/**
 * The one module that knows where hub metadata is stored: `reflect-metadata` keys on the class
 * (or its prototype for members). Decorators write through here; start-up reads through here.
 */
import 'reflect-metadata'
import type { HubTransport } from '../config/config.js'
import type { HubCallerContext, HubInvocation } from './hub.js'

export interface HubOptions {
  /** Hub name used in subjects (`im.<name>.*`); default: the class name without `Hub`, kebab-cased. */
  readonly name?: string
  /** Route of the hub; default `<pathPrefix>/<name>`. */
  readonly path?: string
  /**
   * Transports this hub serves (ASP.NET Core's `MapHub` option `Transports`), named as the
   * SignalR clients' `HttpTransportType`: negotiate offers only these, and a request for another
   * is refused with 404. Default: the `hubs.transports` setting (all three).
   */
  readonly transports?: readonly HubTransport[]
  /**
   * Keep the request that opened each connection for `this.context.http` (default true). A hub
   * whose code never reads it sets false and saves the request's headers (cookies included) per
   * connection; `this.context.http` is then empty.
   */
  readonly httpContext?: boolean
}

export interface AuthorizeOptions {
  /** The user needs at least one of these roles (from the `role` / `roles` claims). */
  readonly roles?: readonly string[]
  /**
   * On a method: a check of your own, run before each call with the caller's context (user,
   * claims, connection) and the call (method name and arguments), so that it can decide by
   * argument; false (or a throw) refuses the call like a missing role.
   */
  readonly policy?: (context: HubCallerContext, invocation: HubInvocation) => boolean | Promise<boolean>
}

export interface HubMethodOptions {
  /** Name clients invoke; default the method name. Matched case-insensitively, as ASP.NET Core does. */
  readonly name?: string
}

export interface ForwardOptions extends HubMethodOptions {
  /**
   * Publish through JetStream: the invocation completes once the stream holding the subject
   * stored the envelope, and fails when none does. Needs NATS with a stream for the subject.
   */
  readonly durable?: boolean
}

export interface SubscribeOptions {
  /** Queue group: one node of the cluster handles each message instead of all of them. */
  readonly queue?: string
}

export interface HubMethodMetadata {
  readonly propertyKey: string
  readonly name: string
  /** Set for `@Forward`: the framework publishes the invocation to this subject. */
  readonly forwardSubject?: string
  /** `@Forward(subject, { durable: true })`: through JetStream. */
  readonly forwardDurable?: boolean
  /** Set for `@HubStream`: the method returns an AsyncIterable whose items stream to the caller. */
  readonly stream?: boolean
}

export interface SubscriptionMetadata {
  readonly propertyKey: string
  readonly subject: string
  readonly queue?: string
}

export interface ClientMethodMetadata {
  readonly propertyKey: string
  readonly name: string
}

const HUB = Symbol.for('imservice:hub')
const HUB_SOURCE = Symbol.for('imservice:hub-source')
const METHODS = Symbol.for('imservice:hub-methods')
const SUBSCRIPTIONS = Symbol.for('imservice:subscriptions')
const CLIENT_METHODS = Symbol.for('imservice:client-methods')
const AUTHORIZE = Symbol.for('imservice:authorize')

// Member lists are copied on write so that a subclass never adds to its base class's list.
function appendOwn<T>(key: symbol, target: object, item: T): void {
  const own: T[] = Reflect.hasOwnMetadata(key, target) ? Reflect.getOwnMetadata(key, target) : []
  Reflect.defineMetadata(key, [...own, item], target)
}

function readAll<T>(key: symbol, prototype: object): T[] {
  const lists: T[][] = []
  for (let p: object | null = prototype; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    if (Reflect.hasOwnMetadata(key, p)) lists.unshift(Reflect.getOwnMetadata(key, p))
  }
  return lists.flat()
}

export const hubMetadata = {
  setHub(target: Function, options: HubOptions, sourceFile?: string): void {
    Reflect.defineMetadata(HUB, options, target)
    if (sourceFile !== undefined) Reflect.defineMetadata(HUB_SOURCE, sourceFile, target)
  },
  /** The file the class was declared in (where `@Hub()` was called), for reading its types. */
  getHubSource(target: Function): string | undefined {
    return Reflect.hasOwnMetadata(HUB_SOURCE, target) ? Reflect.getOwnMetadata(HUB_SOURCE, target) : undefined
  },
  getHub(target: Function): HubOptions | undefined {
    return Reflect.hasOwnMetadata(HUB, target) ? Reflect.getOwnMetadata(HUB, target) : undefined
  },
  addMethod(prototype: object, method: HubMethodMetadata): void {
    appendOwn(METHODS, prototype, method)
  },
  getMethods(prototype: object): HubMethodMetadata[] {
    return readAll(METHODS, prototype)
  },
  addSubscription(prototype: object, subscription: SubscriptionMetadata): void {
    appendOwn(SUBSCRIPTIONS, prototype, subscription)
  },
  getSubscriptions(prototype: object): SubscriptionMetadata[] {
    return readAll(SUBSCRIPTIONS, prototype)
  },
  addClientMethod(prototype: object, method: ClientMethodMetadata): void {
    appendOwn(CLIENT_METHODS, prototype, method)
  },
  getClientMethods(prototype: object): ClientMethodMetadata[] {
    return readAll(CLIENT_METHODS, prototype)
  },
  /** `propertyKey` undefined means the class itself. */
  setAuthorize(target: object, propertyKey: string | undefined, options: AuthorizeOptions): void {
    if (propertyKey === undefined) Reflect.defineMetadata(AUTHORIZE, options, target)
    else Reflect.defineMetadata(AUTHORIZE, options, target, propertyKey)
  },
  getAuthorize(target: object, propertyKey?: string): AuthorizeOptions | undefined {
    return propertyKey === undefined
      ? Reflect.getMetadata(AUTHORIZE, target)
      : Reflect.getMetadata(AUTHORIZE, target, propertyKey)
  },
}
