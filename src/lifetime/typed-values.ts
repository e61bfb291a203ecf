/**
 * Dates and bytes across the node-to-node hop. Node-to-node messages are JSON, where a Date
 * becomes an ISO 8601 string and a Uint8Array a base64 one; the receiving node would then write
 * strings to its MessagePack clients, where ASP.NET Core writes a timestamp and bin. So the sender
 * lists where such values sit, and the receiver turns those strings back. A node that predates
 * the list ignores it and delivers the strings, which are already the JSON protocol's forms.
 */

/** One Date or Uint8Array: its kind, then the keys and indexes that lead to it. */
export type TypedPath = readonly ['date' | 'bytes', ...(string | number)[]]

/** As deep as the JSON writer's scan: values nested deeper cross as their JSON strings. */
const MAX_DEPTH = 64

/** Where the Dates and Uint8Arrays inside `value` sit; an empty list for most messages. */
export function findTypedValues(value: unknown): TypedPath[] {
  const found: TypedPath[] = []
  const path: (string | number)[] = []
  const visit = (node: unknown, depth: number): void => {
    if (typeof node !== 'object' || node === null) return
    if (node instanceof Uint8Array) return void found.push(['bytes', ...path])
    if (node instanceof Date) return void found.push(['date', ...path])
    if (depth >= MAX_DEPTH) return
    if (Array.isArray(node)) {
      node.forEach((item, index) => {
        if (typeof item !== 'object' || item === null) return
        path.push(index)
        visit(item, depth + 1)
        path.pop()
      })
      return
    }
    for (const key of Object.keys(node)) {
      const item = (node as Record<string, unknown>)[key]
      if (typeof item !== 'object' || item === null) continue
      path.push(key)
      visit(item, depth + 1)
      path.pop()
    }
  }
  visit(value, 0)
  return found
}

/**
 * Turns the strings at `paths` inside `value` (parsed JSON) back into Dates and Uint8Arrays, in
 * place. Another node's list is not trusted: a path that does not lead to a string of the right
 * form through own properties is skipped, so it can neither throw nor reach a prototype.
 */
export function restoreTypedValues(value: unknown, paths: unknown): void {
  if (!Array.isArray(paths)) return
  for (const path of paths) {
    if (!Array.isArray(path) || path.length < 2 || (path[0] !== 'date' && path[0] !== 'bytes')) continue
    let holder: unknown = value
    for (let i = 1; i < path.length - 1 && holder !== undefined; i++) holder = ownValue(holder, path[i])
    const key = path[path.length - 1] as unknown
    const text = ownValue(holder, key)
    if (typeof text !== 'string') continue
    const restored = path[0] === 'date' ? toDate(text) : toBytes(text)
    if (restored !== undefined) (holder as Record<string, unknown>)[key as string] = restored
  }
}

function ownValue(holder: unknown, key: unknown): unknown {
  if (typeof holder !== 'object' || holder === null || (typeof key !== 'string' && typeof key !== 'number')) return undefined
  return Object.hasOwn(holder, key) ? (holder as Record<string, unknown>)[key] : undefined
}

function toDate(text: string): Date | undefined {
  const date = new Date(text)
  return Number.isNaN(date.getTime()) ? undefined : date
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function toBytes(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined
  const buffer = Buffer.from(text, 'base64')
  // A plain Uint8Array, as hub code sent it and as the MessagePack reader gives bin.
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength)
}
