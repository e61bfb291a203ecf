/**
 * The `json` hub protocol (HubProtocol.md, "JSON Encoding"): one JSON object per frame, each frame
 * ended by 0x1E. Reading follows the .NET server (JsonHubProtocol.cs in
 * src/SignalR/common/Protocols.Json); writing produces the bytes .NET writes, field for field.
 */
import type { HubProtocol, ParseOptions, ParseResult } from './hub-protocol.js'
import { bindHubMessage } from './json-message-binder.js'
import { readJsonObject } from './json-reader.js'
import { MessageType, TransferFormat } from './messages.js'
import type { CompletionMessage, HubMessage, MessageHeaders } from './messages.js'
import { exceedsMaxSize, RECORD_SEPARATOR, splitFrames } from './text-message-format.js'
import { stringifyWireValue } from './wire-json.js'

const PING_FRAME = `{"type":${MessageType.Ping}}${RECORD_SEPARATOR}`

export const maxMessageSizeError = (maxMessageSize: number): string =>
  `The maximum message size of ${maxMessageSize}B was exceeded. The message size can be configured in AddHubOptions.`

export class JsonHubProtocol implements HubProtocol {
  readonly name = 'json'
  /** Version 2 adds Ack and Sequence (stateful reconnect); the server accepts any version <= 2. */
  readonly version = 2
  readonly transferFormat = TransferFormat.Text

  parseMessages(input: string | Uint8Array, options: ParseOptions = {}): ParseResult {
    const { maxMessageSize } = options
    const { frames, rest } = splitFrames(input)
    const messages: HubMessage[] = []
    const sizes: number[] | undefined = options.measure ? [] : undefined
    const result = (end: { rest?: string | Uint8Array; error?: string }): ParseResult => ({ messages, ...end, ...(sizes ? { sizes } : {}) })
    for (const frame of frames) {
      if (maxMessageSize !== undefined && exceedsMaxSize(frame, maxMessageSize)) {
        return result({ error: maxMessageSizeError(maxMessageSize) })
      }
      const read = readJsonObject(frame)
      if (!read.ok) return result({ error: read.error })
      const bound = bindHubMessage(read.value)
      if (bound.error !== undefined) return result({ error: bound.error })
      if (bound.message !== undefined) {
        messages.push(bound.message)
        // The separator counts, as it does against maxMessageSize.
        sizes?.push(frame.length + 1)
      }
    }
    // An unfinished frame that already fills the window can never become a valid one.
    if (rest !== undefined && maxMessageSize !== undefined && exceedsMaxSize(rest, maxMessageSize)) {
      return result({ error: maxMessageSizeError(maxMessageSize) })
    }
    return result(rest === undefined ? {} : { rest })
  }

  /**
   * Encodes one message as a frame. Built by concatenation in the .NET field order so that a
   * broadcast is encoded once and the same string goes to every connection. Values take .NET's
   * JSON forms (wire-json.ts): bytes as base64, dates as ISO 8601. Throws only for values with no
   * JSON form (BigInt, cycles, an invalid Date): the caller turns that into an error.
   */
  writeMessage(message: HubMessage): string {
    switch (message.type) {
      case MessageType.Invocation:
      case MessageType.StreamInvocation:
        return (
          head(message.type, message.headers) +
          invocationIdField(message.invocationId) +
          `,"target":${JSON.stringify(message.target)},"arguments":${json(message.arguments)}` +
          (message.streamIds !== undefined ? `,"streamIds":${JSON.stringify(message.streamIds)}` : '') +
          TAIL
        )
      case MessageType.StreamItem:
        return (
          head(message.type, message.headers) +
          invocationIdField(message.invocationId) +
          `,"item":${json(message.item)}` +
          TAIL
        )
      case MessageType.Completion:
        return head(message.type, message.headers) + invocationIdField(message.invocationId) + outcome(message) + TAIL
      case MessageType.CancelInvocation:
        return head(message.type, message.headers) + invocationIdField(message.invocationId) + TAIL
      case MessageType.Ping:
        return PING_FRAME
      case MessageType.Close:
        return (
          head(message.type) +
          (message.error !== undefined ? `,"error":${JSON.stringify(message.error)}` : '') +
          (message.allowReconnect === true ? ',"allowReconnect":true' : '') +
          TAIL
        )
      case MessageType.Ack:
      case MessageType.Sequence:
        return `${head(message.type)},"sequenceId":${json(message.sequenceId)}${TAIL}`
      default:
        return unreachable(message)
    }
  }
}

export const jsonHubProtocol = new JsonHubProtocol()

const TAIL = `}${RECORD_SEPARATOR}`

/** `{"type":n` plus the headers, which .NET writes right after the type and only when non-empty. */
function head(type: MessageType, headers?: MessageHeaders): string {
  const text = `{"type":${type}`
  return headers !== undefined && Object.keys(headers).length > 0
    ? `${text},"headers":${JSON.stringify(headers)}`
    : text
}

/** .NET omits an empty invocation id (JsonHubProtocol.cs WriteInvocationId). */
function invocationIdField(invocationId: string | undefined): string {
  return invocationId ? `,"invocationId":${JSON.stringify(invocationId)}` : ''
}

/**
 * A non-empty error wins; otherwise `result` is written when present, null included, and an
 * undefined result counts as absent (a stream end or a Completion with neither field).
 */
function outcome(message: CompletionMessage): string {
  if (message.error) return `,"error":${JSON.stringify(message.error)}`
  if (message.result !== undefined) return `,"result":${json(message.result)}`
  return ''
}

/** A value in .NET's JSON forms, with `null` where JSON.stringify would give undefined (undefined, functions, symbols). */
function json(value: unknown): string {
  return stringifyWireValue(value) ?? 'null'
}

function unreachable(message: never): never {
  throw new TypeError(`Not a hub message: ${JSON.stringify(message)}`)
}
