/**
 * Reads a hub class's decorators once at start-up into a HubDescriptor, and refuses definitions
 * that cannot work, naming the class and member.
 */
import { hubSubjects, subjectsOverlap, validateTopic } from '../bus/subjects.js'
import type { HubTransport } from '../config/config.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { HubClass } from './hub.js'
import { hubMetadata } from './metadata.js'
import type { AuthorizeOptions, ClientMethodMetadata, SubscriptionMetadata } from './metadata.js'
import { defaultHubName, hubPath } from './hub-name.js'
import type { Arity, HubBindings, MethodBinding, ValueBinder } from './binding.js'

export interface HubMethodDescriptor {
  /** The name clients use (as declared; matched case-insensitively). */
  readonly name: string
  readonly propertyKey: string
  readonly arity: Arity
  /** The checks of its declared parameter types; absent when its source could not be read. */
  readonly binding?: MethodBinding
  readonly forwardSubject?: string
  /** `@Forward(subject, { durable: true })`. */
  readonly forwardDurable?: boolean
  readonly stream: boolean
  /**
   * Every rule a call must pass: the hub's `@Authorize` first, then the method's, as ASP.NET Core
   * applies the attributes of both the hub class and the method. Empty when neither has one.
   */
  readonly authorize: readonly AuthorizeOptions[]
}

export interface HubDescriptor {
  readonly hubClass: HubClass
  readonly className: string
  readonly name: string
  readonly path: string
  /** Set when the whole hub requires an authenticated user. */
  readonly authorize?: AuthorizeOptions
  /** The transports the hub serves, in the order negotiate lists them. */
  readonly transports: readonly HubTransport[]
  /** Connections keep their opening request for `this.context.http` (`@Hub({ httpContext })`). */
  readonly keepsRequest: boolean
  /** Client-callable methods by lower-cased name. */
  readonly methods: ReadonlyMap<string, HubMethodDescriptor>
  readonly subscriptions: readonly SubscriptionDescriptor[]
  readonly clientMethods: readonly ClientMethodMetadata[]
}

export interface SubscriptionDescriptor extends SubscriptionMetadata {
  /** Checks a payload against the handler's declared parameter type; absent for `unknown`. */
  readonly bind?: ValueBinder
}

export interface DescribeHubOptions {
  readonly pathPrefix: string
  /** Transports of hubs that name none (the `hubs.transports` setting); default all three. */
  readonly transports?: readonly HubTransport[]
  /** What the hub's source declares (read at start-up); without it nothing is type-checked. */
  readonly bindings?: HubBindings
}

const HUB_NAME = /^[a-z0-9][a-z0-9_-]*$/
const TRANSPORTS: readonly HubTransport[] = ['WebSockets', 'ServerSentEvents', 'LongPolling']

export { defaultHubName }

export function isHubClass(value: unknown): value is HubClass {
  return typeof value === 'function' && hubMetadata.getHub(value) !== undefined
}

export function describeHub(hubClass: HubClass, options: DescribeHubOptions): HubDescriptor {
  const className = hubClass.name
  const fail = (message: string): never => {
    throw new ImError(ImErrorCode.HubDefinitionInvalid, `${className}: ${message}`)
  }
  const hubOptions = hubMetadata.getHub(hubClass) ?? fail('is not decorated with @Hub()')
  const name = hubOptions.name ?? defaultHubName(className)
  if (!HUB_NAME.test(name)) fail(`hub name "${name}" must be lower-case letters, digits, '-' or '_'`)
  const path = hubPath(name, hubOptions.path, options.pathPrefix)
  const transports = hubTransports(hubOptions.transports, fail) ?? options.transports ?? TRANSPORTS

  const prototype = hubClass.prototype as Record<string, unknown>
  const hubRule = hubMetadata.getAuthorize(hubClass)
  const methods = new Map<string, HubMethodDescriptor>()
  for (const method of hubMetadata.getMethods(prototype)) {
    const fn = prototype[method.propertyKey]
    if (typeof fn !== 'function') fail(`${method.propertyKey} is decorated as a hub method but is not a method`)
    const key = method.name.toLowerCase()
    // ASP.NET Core matches method names ignoring case and allows no overloads.
    if (methods.has(key)) fail(`two hub methods are named "${method.name}" (names are case-insensitive)`)
    if (method.forwardSubject !== undefined) checkSubject(method.forwardSubject, `@Forward on ${method.propertyKey}`, fail)
    const binding = options.bindings?.method(method.name)
    methods.set(key, {
      name: method.name,
      propertyKey: method.propertyKey,
      arity: binding?.arity ?? arityOf(fn as Function),
      ...(binding ? { binding } : {}),
      forwardSubject: method.forwardSubject,
      ...(method.forwardDurable ? { forwardDurable: true } : {}),
      stream: method.stream === true,
      authorize: [hubRule, hubMetadata.getAuthorize(prototype, method.propertyKey)].filter((rule): rule is AuthorizeOptions => rule !== undefined),
    })
  }

  const subscriptions: SubscriptionDescriptor[] = hubMetadata.getSubscriptions(prototype).map((subscription) => {
    const bind = options.bindings?.subscription(subscription.propertyKey)
    return bind ? { ...subscription, bind } : subscription
  })
  const own = hubSubjects(name).own
  const seen = new Set<string>()
  for (const subscription of subscriptions) {
    if (typeof prototype[subscription.propertyKey] !== 'function') fail(`@Subscribe on ${subscription.propertyKey}, which is not a method`)
    checkSubject(subscription.subject, `@Subscribe on ${subscription.propertyKey}`, fail, true)
    // IMService sends its own traffic there (client envelopes, node-to-node delivery): a handler
    // would be handed it, and services publishing there would disturb the cluster.
    const taken = own.find((pattern) => subjectsOverlap(pattern, subscription.subject))
    if (taken !== undefined) {
      fail(`@Subscribe on ${subscription.propertyKey}: subject "${subscription.subject}" overlaps "${taken}", which IMService uses itself; subscribe under im.${name}.send.* or a subject outside im.${name}`)
    }
    if (seen.has(subscription.subject)) fail(`subject "${subscription.subject}" is subscribed twice`)
    seen.add(subscription.subject)
  }

  return {
    hubClass,
    className,
    name,
    path,
    authorize: hubRule,
    transports,
    keepsRequest: hubOptions.httpContext !== false,
    methods,
    subscriptions,
    clientMethods: hubMetadata.getClientMethods(prototype),
  }
}

/**
 * Without the declared types (a class whose source file could not be read) only the required
 * parameters are known, from `fn.length`; any number beyond them is accepted.
 */
function arityOf(fn: Function): Arity {
  return { min: fn.length, max: Infinity }
}

function checkSubject(subject: string, where: string, fail: (m: string) => never, wildcards = false): void {
  // Wildcards are fine where we subscribe, never where we publish.
  const plain = wildcards ? subject.replace(/(^|\.)(\*|>)(?=\.|$)/g, '$1x') : subject
  const problem = validateTopic(plain)
  if (problem) fail(`${where}: subject "${subject}" is not valid: ${problem}`)
}

/** `@Hub({ transports })`: one or more names as the SignalR clients spell them, in negotiate's order. */
function hubTransports(named: readonly unknown[] | undefined, fail: (m: string) => never): readonly HubTransport[] | undefined {
  if (named === undefined) return undefined
  const unknown = Array.isArray(named) ? named.find((name) => !TRANSPORTS.includes(name as HubTransport)) : named
  if (!Array.isArray(named) || named.length === 0 || unknown !== undefined) {
    fail(`@Hub transports must name one or more of ${TRANSPORTS.join(', ')}, got ${JSON.stringify(unknown ?? named)}`)
  }
  return TRANSPORTS.filter((name) => named.includes(name))
}
