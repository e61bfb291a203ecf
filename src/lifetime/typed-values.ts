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

export interface TypedValues {
  /** Where the Dates and Uint8Arrays sit; empty for most messages. */
  readonly paths: TypedPath[]
  /** False when `value` nests deeper than followed: it may hold more than `paths` lists. */
  readonly complete: boolean
}

export function findTypedValues(value: unknown): TypedValues {
  const found: TypedPath[] = []
  const complete = visit(value, [], 0, found)
  return { paths: found, complete }
}

/** Plain loops and one shared path: this runs on every send from hub code. False past MAX_DEPTH. */
function visit(node: unknown, path: (string | number)[], depth: number, found: TypedPath[]): boolean {
  if (typeof node !== 'object' || node === null) return true
  if (node instanceof Uint8Array) return found.push(['bytes', ...path]) > 0
  if (node instanceof Date) return found.push(['date', ...path]) > 0
  if (depth >= MAX_DEPTH) return false
  let complete = true
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i]
      if (typeof item !== 'object' || item === null) continue
      path.push(i)
      complete = visit(item, path, depth + 1, found) && complete
      path.pop()
    }
    return complete
  }
  const record = node as Record<string, unknown>
  for (const key in record) {
    const item = record[key]
    if (typeof item !== 'object' || item === null || !Object.hasOwn(record, key)) continue
    path.push(key)
    complete = visit(item, path, depth + 1, found) && complete
    path.pop()
  }
  return complete
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
