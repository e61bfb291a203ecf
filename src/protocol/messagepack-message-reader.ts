/**
 * Validates one decoded MessagePack payload (an array) as a hub message, with the layouts of
 * HubProtocol.md ("MessagePack (MsgPack) encoding") and the rules and error texts of the .NET
 * server (MessagePackHubProtocolWorker.cs in src/SignalR/common/Protocols.MessagePack, ParseMessage
 * and the Create* / Read* helpers). As there, elements are read by position, a missing element
 * fails like a value of the wrong type, and extra trailing elements are ignored.
 */
import { MessageType } from './messages.js'
import type { HubMessage, MessageHeaders } from './messages.js'

/** A message; neither field for a message type this server does not know (skipped); or an error. */
export type ReadResult =
  | { readonly message: HubMessage; readonly error?: undefined }
  | { readonly message?: undefined; readonly error?: undefined }
  | { readonly message?: undefined; readonly error: string }

/** Completion result kinds (HubProtocol.md, Completion message encoding). */
const ResultKind = { Error: 1, Void: 2, NonVoid: 3 } as const

/** Thrown by the readers below and turned into `{ error }` by readHubMessage; never escapes. */
class InvalidData extends Error {}

const fail = (text: string): never => {
  throw new InvalidData(text)
}

type Items = readonly unknown[]

export function readHubMessage(payload: unknown): ReadResult {
  // .NET fails in MessagePackReader.ReadArrayHeader without a text of its own; this one is ours.
  if (!Array.isArray(payload)) return { error: 'Invalid message: expected a MessagePack array.' }
  try {
    const message = readMessage(payload)
    return message === undefined ? {} : { message }
  } catch (error) {
    if (error instanceof InvalidData) return { error: error.message }
    throw error
  }
}

function readMessage(items: Items): HubMessage | undefined {
  const type = readInt32(items, 0, 'messageType')
  switch (type) {
    case MessageType.Invocation: {
      const headers = readHeaders(items)
      // An empty id means "no reply wanted", as nil does (CreateInvocationMessage).
      const invocationId = readString(items, 2, 'invocationId') || undefined
      const target = required(readString(items, 3, 'target'), 'target for Invocation message')
      const args = readArray(items, 4, 'arguments')
      // Clients before stream ids, and the JS client without them, send 5 elements.
      const streamIds = items.length > 5 ? readStreamIds(items[5]) : undefined
      return {
        type,
        ...(invocationId !== undefined ? { invocationId } : {}),
        target,
        arguments: args,
        ...streamIdsOf(streamIds),
        ...headersOf(headers),
      }
    }
    case MessageType.StreamInvocation: {
      const headers = readHeaders(items)
      const invocationId = requiredId(items, 'StreamInvocation')
      const target = required(readString(items, 3, 'target'), 'target for StreamInvocation message')
      const args = readArray(items, 4, 'arguments')
      const streamIds = items.length > 5 ? readStreamIds(items[5]) : undefined
      return { type, invocationId, target, arguments: args, ...streamIdsOf(streamIds), ...headersOf(headers) }
    }
    case MessageType.StreamItem: {
      const headers = readHeaders(items)
      const invocationId = requiredId(items, 'StreamItem')
      const item = readValue(items, 3, 'item')
      return { type, invocationId, item, ...headersOf(headers) }
    }
    case MessageType.Completion: {
      const headers = readHeaders(items)
      const invocationId = requiredId(items, 'Completion')
      return { type, invocationId, ...readOutcome(items), ...headersOf(headers) }
    }
    case MessageType.CancelInvocation: {
      const headers = readHeaders(items)
      return { type, invocationId: requiredId(items, 'CancelInvocation'), ...headersOf(headers) }
    }
    case MessageType.Ping:
      return { type }
    case MessageType.Close: {
      // An empty string is still an error (CreateCloseMessage); allowReconnect came with 3 elements.
      const error = readString(items, 1, 'error')
      const allowReconnect = items.length > 2 && readBoolean(items, 2, 'allowReconnect')
      return { type, ...(error !== null ? { error } : {}), ...(allowReconnect ? { allowReconnect } : {}) }
    }
    case MessageType.Ack:
    case MessageType.Sequence:
      return { type, sequenceId: readInt64(items, 1, 'sequenceId') }
    default:
      // Later protocol versions may add types; .NET and the JS client ignore unknown ones.
      return undefined
  }
}

/**
 * Kind 1 carries an error string (nil leaves neither field, as in .NET), kind 2 nothing, kind 3 a
 * result, which may be nil (CreateCompletionMessage).
 */
function readOutcome(items: Items): { error?: string; result?: unknown } {
  const kind = readInt32(items, 3, 'resultKind')
  switch (kind) {
    case ResultKind.Error: {
      const error = readString(items, 4, 'error')
      return error !== null ? { error } : {}
    }
    case ResultKind.Void:
      return {}
    case ResultKind.NonVoid:
      return { result: readValue(items, 4, 'result') }
    default:
      return fail('Invalid invocation result kind.')
  }
}

/** Headers are a str→str map, always present; an empty map means none (ReadHeaders, ApplyHeaders). */
function readHeaders(items: Items): MessageHeaders | undefined {
  const map = items[1]
  if (!isMap(map)) return fail("Reading map length for 'headers' failed.")
  let headers: MessageHeaders | undefined
  let i = 0
  for (const [key, value] of Object.entries(map)) {
    // The decoder already turned integer keys into strings, where .NET would refuse them.
    if (key === '') fail('Null or empty key in header.')
    if (value !== null && typeof value !== 'string') fail(`Reading 'headers[${i}].Value' as String failed.`)
    if (!value) fail('Null or empty value in header.')
    headers ??= {}
    headers[key] = value as string
    i++
  }
  return headers
}

/** Stream ids: an array of non-empty strings; an empty array means none (ReadStreamIds). */
function readStreamIds(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return fail("Reading array length for 'streamIds' failed.")
  for (const id of value as unknown[]) {
    // .NET fails in MessagePackReader.ReadString for a non-string without a text; this one is ours.
    if (id !== null && typeof id !== 'string') fail("Reading 'streamIds' as String failed.")
    if (!id) fail('Null or empty value in streamIds received.')
  }
  return value.length > 0 ? (value as string[]) : undefined
}

function requiredId(items: Items, messageName: string): string {
  return required(readString(items, 2, 'invocationId'), `invocation ID for ${messageName} message`)
}

function required(value: string | null, what: string): string {
  return value || fail(`Null or empty ${what}.`)
}

/** A str or nil (MessagePackReader.ReadString gives null for nil). */
function readString(items: Items, index: number, field: string): string | null {
  const value = items[index]
  if (index < items.length && (value === null || typeof value === 'string')) return value
  return fail(`Reading '${field}' as String failed.`)
}

/**
 * An integer in Int32 range. The decoder gives a float that holds an integer as the same number,
 * so such a float passes here where .NET's ReadInt32 would refuse it.
 */
function readInt32(items: Items, index: number, field: string): number {
  const value = items[index]
  if (Number.isInteger(value) && (value as number) >= -0x80000000 && (value as number) <= 0x7fffffff) {
    return value as number
  }
  return fail(`Reading '${field}' as Int32 failed.`)
}

function readInt64(items: Items, index: number, field: string): number {
  const value = items[index]
  return Number.isInteger(value) ? (value as number) : fail(`Reading '${field}' as Int64 failed.`)
}

function readBoolean(items: Items, index: number, field: string): boolean {
  const value = items[index]
  return typeof value === 'boolean' ? value : fail(`Reading '${field}' as Boolean failed.`)
}

function readArray(items: Items, index: number, field: string): unknown[] {
  const value = items[index]
  return Array.isArray(value) ? (value as unknown[]) : fail(`Reading array length for '${field}' failed.`)
}

/**
 * Any value, nil included, but it must be there. .NET deserializes it to the type the hub expects
 * (DefaultMessagePackHubProtocolWorker.DeserializeObject); untyped here, so it names `Object`.
 */
function readValue(items: Items, index: number, field: string): unknown {
  if (index < items.length) return items[index]
  return fail(`Deserializing object of the \`Object\` type for '${field}' failed.`)
}

/** A decoded msgpack map: @msgpack/msgpack builds each one as a plain object literal. */
function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
}

function headersOf(headers: MessageHeaders | undefined): { headers?: MessageHeaders } {
  return headers !== undefined ? { headers } : {}
}

function streamIdsOf(streamIds: string[] | undefined): { streamIds?: string[] } {
  return streamIds !== undefined ? { streamIds } : {}
}
