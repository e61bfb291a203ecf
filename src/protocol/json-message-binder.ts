/**
 * Validates one parsed JSON object as a hub message, with the rules and error texts of the .NET
 * server (src/SignalR/common/Protocols.Json/src/Protocol/JsonHubProtocol.cs, ParseMessage and the
 * Bind* helpers; field list in HubProtocol.md). As in .NET, every known property is type-checked
 * whatever the message type, property order does not matter and unknown properties are ignored.
 */
import { MessageType } from './messages.js'
import type { HubMessage, MessageHeaders } from './messages.js'
import { has } from './json-reader.js'
import type { JsonObject } from './json-reader.js'

/** A message; neither field for a message type this server does not know (skipped); or an error. */
export type BindResult =
  | { readonly message: HubMessage; readonly error?: undefined }
  | { readonly message?: undefined; readonly error?: undefined }
  | { readonly message?: undefined; readonly error: string }

const missing = (name: string): { error: string } => ({ error: `Missing required property '${name}'.` })
const expected = (name: string, type: string): string => `Expected '${name}' to be of type ${type}.`

/** Fields read before the type is looked at, each already checked for its JSON type. */
interface Fields {
  readonly invocationId?: string
  readonly target?: string
  readonly error?: string
  readonly allowReconnect: boolean
  readonly streamIds?: string[]
  readonly arguments?: unknown[]
  readonly headers?: MessageHeaders
  readonly sequenceId?: number
}

export function bindHubMessage(obj: JsonObject): BindResult {
  const read = readFields(obj)
  if (typeof read === 'string') return { error: read }
  const f = read
  if (!has(obj, 'type')) return missing('type')
  const type = obj.type
  // null gets the type text too, as in .NET, where ReadAsInt32 gives null and the caller refuses it.
  if (typeof type !== 'number' || !Number.isInteger(type)) return { error: expected('type', 'Number') }

  switch (type) {
    case MessageType.Invocation:
      if (!f.target) return missing('target')
      if (f.arguments === undefined) return missing('arguments')
      return {
        message: {
          type,
          // An empty id is written by nobody and means "no reply wanted", as in .NET's IsNullOrEmpty checks.
          ...(f.invocationId ? { invocationId: f.invocationId } : {}),
          target: f.target,
          arguments: f.arguments,
          ...optional(f),
        },
      }
    case MessageType.StreamInvocation:
      if (f.target === undefined) return missing('target')
      if (!f.invocationId) return missing('invocationId')
      if (f.arguments === undefined) return missing('arguments')
      if (f.target === '') return missing('target')
      return {
        message: { type, invocationId: f.invocationId, target: f.target, arguments: f.arguments, ...optional(f) },
      }
    case MessageType.StreamItem:
      if (!f.invocationId) return missing('invocationId')
      // `item` may be null but must be there (JsonHubProtocol.cs BindStreamItemMessage).
      if (!has(obj, 'item')) return missing('item')
      return { message: { type, invocationId: f.invocationId, item: obj.item, ...headersOf(f) } }
    case MessageType.Completion: {
      if (!f.invocationId) return missing('invocationId')
      const hasResult = has(obj, 'result')
      if (f.error !== undefined && hasResult) {
        return { error: "The 'error' and 'result' properties are mutually exclusive." }
      }
      const outcome = f.error !== undefined ? { error: f.error } : hasResult ? { result: obj.result } : {}
      return { message: { type, invocationId: f.invocationId, ...outcome, ...headersOf(f) } }
    }
    case MessageType.CancelInvocation:
      if (!f.invocationId) return missing('invocationId')
      return { message: { type, invocationId: f.invocationId, ...headersOf(f) } }
    case MessageType.Ping:
      return { message: { type } }
    case MessageType.Close:
      return {
        message: {
          type,
          ...(f.error !== undefined ? { error: f.error } : {}),
          ...(f.allowReconnect ? { allowReconnect: true } : {}),
        },
      }
    case MessageType.Ack:
    case MessageType.Sequence:
      if (f.sequenceId === undefined) return missing('sequenceId')
      return { message: { type, sequenceId: f.sequenceId } }
    default:
      // Later protocol versions may add types; .NET and the JS client ignore unknown ones.
      return {}
  }
}

function optional(f: Fields): { streamIds?: string[]; headers?: MessageHeaders } {
  return { ...(f.streamIds !== undefined ? { streamIds: f.streamIds } : {}), ...headersOf(f) }
}

function headersOf(f: Fields): { headers?: MessageHeaders } {
  return f.headers !== undefined ? { headers: f.headers } : {}
}

/** Reads and type-checks the known properties; returns the error text of the first bad one. */
function readFields(obj: JsonObject): Fields | string {
  const { invocationId, target, error, allowReconnect, streamIds, headers, sequenceId } = obj
  const args = obj.arguments
  if (has(obj, 'invocationId') && typeof invocationId !== 'string') return expected('invocationId', 'String')
  if (has(obj, 'streamIds')) {
    if (!Array.isArray(streamIds)) return expected('streamIds', 'Array')
    for (const id of streamIds) {
      if (id === null) return "Null value for 'streamIds' is not valid."
      // .NET fails here with a reader exception; this text is ours.
      if (typeof id !== 'string') return "Expected 'streamIds' items to be of type String."
    }
  }
  if (has(obj, 'target') && typeof target !== 'string') return expected('target', 'String')
  if (has(obj, 'error') && typeof error !== 'string') return expected('error', 'String')
  if (has(obj, 'allowReconnect') && typeof allowReconnect !== 'boolean') {
    return "Expected 'allowReconnect' to be true or false."
  }
  if (has(obj, 'arguments') && !Array.isArray(args)) return expected('arguments', 'Array')
  if (has(obj, 'headers')) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      return expected('headers', 'StartObject')
    }
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value !== 'string') return `Expected header '${name}' to be of type String.`
    }
  }
  // null reads as absent (ReadAsInt64), so it ends as "Missing required property" for Ack/Sequence.
  if (has(obj, 'sequenceId') && sequenceId !== null && !Number.isInteger(sequenceId)) {
    return expected('sequenceId', 'Number')
  }
  return {
    invocationId: invocationId as string | undefined,
    target: target as string | undefined,
    error: error as string | undefined,
    allowReconnect: allowReconnect === true,
    streamIds: streamIds as string[] | undefined,
    arguments: args as unknown[] | undefined,
    headers: headers as MessageHeaders | undefined,
    sequenceId: sequenceId === null ? undefined : (sequenceId as number | undefined),
  }
}
