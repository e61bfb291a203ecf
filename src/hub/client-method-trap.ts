/**
 * Gives a proxy class a method for every client method name, without knowing the names: the
 * client interface of `HubBase<T>` is a type, gone at run time. The end of the class's prototype
 * chain is a JS Proxy whose get-trap answers a name the class lacks with a method that sends it,
 * and defines that method on the class's prototype, so the next lookup of the name is an
 * ordinary prototype hit: no trap, no closure per call. The names in use are few (those written
 * in hub code); past MAX_NAMES a name still works, without being defined.
 */

/** The receiver's method that a method defined here calls: a symbol, so no client method name can shadow it. */
export const SEND_ARGS = Symbol('imservice.sendArgs')

interface Sender {
  [SEND_ARGS](method: string, args: unknown[]): Promise<void>
}

const MAX_NAMES = 1024

/**
 * Names the trap never answers: Object's own members, and names that runtimes and libraries
 * probe on any object (`then` by await, `toJSON` by JSON.stringify). Reading one must never send.
 */
const NOT_CLIENT_METHODS = new Set<string>(['then', 'toJSON', ...Object.getOwnPropertyNames(Object.prototype)])

function sender(method: string): (this: Sender, ...args: unknown[]) => Promise<void> {
  return function (this: Sender, ...args: unknown[]): Promise<void> {
    return this[SEND_ARGS](method, args)
  }
}

export function installClientMethods(prototype: Sender): void {
  let defined = 0
  const trap = new Proxy(Object.create(Object.prototype) as object, {
    get(target, name, receiver) {
      if (typeof name === 'symbol' || NOT_CLIENT_METHODS.has(name)) return Reflect.get(target, name, receiver)
      const method = sender(name)
      if (defined < MAX_NAMES) {
        defined++
        Object.defineProperty(prototype, name, { value: method, writable: true, configurable: true, enumerable: false })
      }
      return method
    },
  })
  Object.setPrototypeOf(prototype, trap)
}
