/**
 * Hub decorators (TypeScript `experimentalDecorators`). They only record metadata; the hub
 * registry reads and validates it at start-up, and `im generate` reads the same decorators from
 * source with ts-morph.
 */
import { callerFile } from './caller-file.js'
import { hubMetadata } from './metadata.js'
import type { AuthorizeOptions, ForwardOptions, HubMethodOptions, HubOptions, SubscribeOptions } from './metadata.js'

/**
 * With experimentalDecorators a decorator on a static member receives the constructor instead of
 * the prototype. The server calls hub methods and handlers on instances, so such a member would
 * silently never run: it is recorded here and describeHub refuses the class.
 */
function isStatic(target: object, decorator: string, propertyKey: string | symbol): boolean {
  // Compiled as standard (TC39) decorators, a method decorator gets the method and a context
  // object: not a static member. What it records lands on the method, and load-hubs says why.
  if (typeof target !== 'function' || typeof propertyKey === 'object') return false
  hubMetadata.addStaticMember(target, { decorator, propertyKey: String(propertyKey) })
  return true
}

/** Marks a class as a hub served by IMService. */
export function Hub(options: HubOptions = {}): ClassDecorator {
  // `Hub(...)` is evaluated where the class is declared: that file holds its parameter types.
  const sourceFile = callerFile(Hub)
  return (target) => hubMetadata.setHub(target, options, sourceFile)
}

/** Makes a method callable by clients (`connection.invoke(name, ...args)`). */
export function HubMethod(options: HubMethodOptions = {}): MethodDecorator {
  return (prototype, propertyKey) => {
    if (isStatic(prototype, 'HubMethod', propertyKey)) return
    const key = String(propertyKey)
    hubMetadata.addMethod(prototype, { propertyKey: key, name: options.name ?? key })
  }
}

/**
 * Makes a method a server-to-client stream (`connection.stream(name, ...args)`): it returns an
 * AsyncIterable, usually an `async *` generator, and each item goes to the caller as it comes.
 * `this.signal` aborts when the caller cancels or disconnects.
 */
export function HubStream(options: HubMethodOptions = {}): MethodDecorator {
  return (prototype, propertyKey) => {
    if (isStatic(prototype, 'HubStream', propertyKey)) return
    const key = String(propertyKey)
    hubMetadata.addMethod(prototype, { propertyKey: key, name: options.name ?? key, stream: true })
  }
}

/**
 * Makes a method callable by clients whose invocation is published to `subject` as an envelope
 * `{ hub, method, args, connectionId, userId, node, timestamp }`. The method body runs first and
 * may validate the arguments (throw a HubException to refuse); the invocation completes once the
 * bus has the message, or with `durable: true` once the JetStream stream holding `subject` stored it.
 */
export function Forward(subject: string, options: ForwardOptions = {}): MethodDecorator {
  return (prototype, propertyKey) => {
    if (isStatic(prototype, 'Forward', propertyKey)) return
    const key = String(propertyKey)
    hubMetadata.addMethod(prototype, { propertyKey: key, name: options.name ?? key, forwardSubject: subject, ...(options.durable ? { forwardDurable: true } : {}) })
  }
}

/** Runs the method for each message published to `subject` (NATS wildcards allowed). */
export function Subscribe(subject: string, options: SubscribeOptions = {}): MethodDecorator {
  return (prototype, propertyKey) => {
    if (isStatic(prototype, 'Subscribe', propertyKey)) return
    hubMetadata.addSubscription(prototype, { propertyKey: String(propertyKey), subject, ...options })
  }
}

/**
 * Declares a method the server calls on clients. The body is never run by the server: the
 * declaration gives `im generate` the name and parameter types of the client handler.
 *
 * @deprecated Declare the hub's client interface instead, `class ChatHub extends
 * HubBase<ChatClient>`: sends are then checked by the compiler (`this.clients.all.message(m)`)
 * and `im generate` reads the same interface (docs/hubs.md, "Moving from @ClientMethod").
 * Still read and merged with the interface; a name declared both ways must agree.
 */
export function ClientMethod(options: { name?: string } = {}): MethodDecorator {
  return (prototype, propertyKey) => {
    if (isStatic(prototype, 'ClientMethod', propertyKey)) return
    const key = String(propertyKey)
    hubMetadata.addClientMethod(prototype, { propertyKey: key, name: options.name ?? key })
  }
}

/**
 * On a class: anonymous connections are refused (401 at negotiate). On a method: only
 * authenticated users (with one of `roles`, if given) may invoke it.
 */
export function Authorize(options: AuthorizeOptions = {}): ClassDecorator & MethodDecorator {
  return ((target: object, propertyKey?: string | symbol) => {
    if (propertyKey !== undefined && isStatic(target, 'Authorize', propertyKey)) return
    hubMetadata.setAuthorize(target, propertyKey === undefined ? undefined : String(propertyKey), options)
  }) as ClassDecorator & MethodDecorator
}
