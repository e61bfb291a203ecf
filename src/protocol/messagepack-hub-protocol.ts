/**
 * The `messagepack` hub protocol (HubProtocol.md, "MessagePack (MsgPack) encoding"): each message is
 * a msgpack array in a VarInt-length-prefixed frame. Reading follows the .NET server
 * (MessagePackHubProtocolWorker.cs in src/SignalR/common/Protocols.MessagePack); writing produces
 * the layouts .NET writes, which the JS client (MessagePackHubProtocol.ts, @msgpack/msgpack) reads.
 *
 * Values use @msgpack/msgpack's defaults, as the JS client does: Uint8Array <-> bin, Date <->
 * timestamp extension -1, objects <-> maps keyed by property name. A frame reaches the decoder
 * only once its declared lengths and nesting have been checked against its bytes (msgpack-bounds.ts).
 */
import { decodeTimestampExtension, Decoder, Encoder, encodeTimestampExtension, EXT_TIMESTAMP, ExtensionCodec } from '@msgpack/msgpack'
import { lengthPrefixSize, splitFrames, writeFrame } from './binary-message-format.js'
import type { HubProtocol, ParseOptions, ParseResult } from './hub-protocol.js'
import { MessageType, TransferFormat } from './messages.js'
import type { CompletionMessage, HubMessage, MessageHeaders } from './messages.js'
import { readHubMessage } from './messagepack-message-reader.js'
import { checkMsgpackBounds, MSGPACK_READ_ERROR } from './msgpack-bounds.js'
import { INVALID_DATE_ERROR } from './wire-json.js'

export { MSGPACK_READ_ERROR }

/** The text of the TS client for input it cannot read (MessagePackHubProtocol.ts parseMessages). */
export const INVALID_INPUT_ERROR = 'Invalid input for MessagePack hub protocol. Expected a Uint8Array.'

/** Ping is always `[6]`, framed `02 91 06` (HubProtocol.md, Ping message encoding). */
const PING_FRAME = Uint8Array.of(0x02, 0x91, MessageType.Ping)

/** Completion result kinds (HubProtocol.md, Completion message encoding). */
const ResultKind = { Error: 1, Void: 2, NonVoid: 3 } as const

/**
 * The default timestamp extension, except that an invalid Date is refused: the default writes it
 * as 1970-01-01, a wrong value the reader cannot tell from a real one. The JSON writer refuses it
 * too, so a message fails alike in both protocols.
 */
const extensionCodec = new ExtensionCodec()
extensionCodec.register({
  type: EXT_TIMESTAMP,
  encode: (value: unknown) => {
    if (!(value instanceof Date)) return null
    if (Number.isNaN(value.getTime())) throw new TypeError(INVALID_DATE_ERROR)
    return encodeTimestampExtension(value)
  },
  decode: decodeTimestampExtension,
})

const NO_HEADERS: MessageHeaders = {}
const NO_STREAM_IDS: readonly string[] = []

export class MessagePackHubProtocol implements HubProtocol {
  readonly name = 'messagepack'
  /** Version 2 adds Ack and Sequence (stateful reconnect); the server accepts any version <= 2. */
  readonly version = 2
  readonly transferFormat = TransferFormat.Binary

  /**
   * One encoder for every message: it keeps its buffer between calls, and `encodeSharedRef`
   * avoids a copy before framing. Undefined object properties are left out, as JSON.stringify
   * does, so both protocols carry the same object shapes.
   */
  private readonly encoder = new Encoder({ ignoreUndefined: true, extensionCodec })
  private readonly decoder = new Decoder()

  /**
   * Parses the frames of a stream chunk. A string is refused: MessagePack needs a binary
   * transport. `bin` values in the messages are views of `input`, so the caller must not reuse
   * the input's memory for other data afterwards.
   */
  parseMessages(input: string | Uint8Array, options: ParseOptions = {}): ParseResult {
    if (!(input instanceof Uint8Array)) return { messages: [], error: INVALID_INPUT_ERROR }
    const { frames, rest, error } = splitFrames(input, options.maxMessageSize)
    const messages: HubMessage[] = []
    const sizes: number[] | undefined = options.measure ? [] : undefined
    const result = (end: { rest?: Uint8Array; error?: string }): ParseResult => ({ messages, ...end, ...(sizes ? { sizes } : {}) })
    for (const frame of frames) {
      const refused = checkMsgpackBounds(frame)
      if (refused !== undefined) return result({ error: refused })
      const decoded = this.decode(frame)
      if (decoded === undefined) return result({ error: MSGPACK_READ_ERROR })
      const read = readHubMessage(decoded.value)
      if (read.error !== undefined) return result({ error: read.error })
      if (read.message !== undefined) {
        messages.push(read.message)
        sizes?.push(lengthPrefixSize(frame.byteLength) + frame.byteLength)
      }
    }
    if (error !== undefined) return result({ error })
    return result(rest === undefined ? {} : { rest })
  }

  /**
   * Encodes one message as a frame, prefix included, in the .NET layouts (WriteMessageCore).
   * The bytes are shared by every receiver of a broadcast and must not be modified. Throws only
   * for values msgpack cannot encode (BigInt, functions, symbols, nesting past 100 levels, which
   * includes cycles): the caller turns that into an error.
   */
  writeMessage(message: HubMessage): Uint8Array {
    if (message.type === MessageType.Ping) return PING_FRAME
    return writeFrame(this.encoder.encodeSharedRef(toArray(message)))
  }

  private decode(frame: Uint8Array): { value: unknown } | undefined {
    try {
      return { value: this.decoder.decode(frame) }
    } catch {
      // What the bounds check leaves to the decoder: a map key that is not a string or number,
      // a `__proto__` key, a timestamp extension of the wrong size.
      return undefined
    }
  }
}

export const messagePackHubProtocol = new MessagePackHubProtocol()

/** The msgpack array of a message, element for element as .NET writes it. */
function toArray(message: Exclude<HubMessage, { type: typeof MessageType.Ping }>): unknown[] {
  switch (message.type) {
    case MessageType.Invocation:
    case MessageType.StreamInvocation:
      // .NET always writes 6 elements, an empty streamIds array when there are none, and nil for
      // an empty invocation id (WriteInvocationMessage).
      return [
        message.type,
        message.headers ?? NO_HEADERS,
        message.invocationId || null,
        message.target,
        message.arguments,
        message.streamIds ?? NO_STREAM_IDS,
      ]
    case MessageType.StreamItem:
      return [message.type, message.headers ?? NO_HEADERS, message.invocationId, message.item]
    case MessageType.Completion:
      return completionArray(message)
    case MessageType.CancelInvocation:
      return [message.type, message.headers ?? NO_HEADERS, message.invocationId]
    case MessageType.Close:
      // Always 3 elements; an empty error is written as nil (WriteCloseMessage).
      return [message.type, message.error || null, message.allowReconnect === true]
    case MessageType.Ack:
    case MessageType.Sequence:
      return [message.type, message.sequenceId]
    default:
      return unreachable(message)
  }
}

/**
 * A non-empty error gives kind 1, as the JSON writer lets a non-empty error win; otherwise a
 * present `result`, null included, gives kind 3 with the value; neither gives kind 2 and only 4
 * elements (WriteCompletionMessage).
 */
function completionArray(message: CompletionMessage): unknown[] {
  const head = [message.type, message.headers ?? NO_HEADERS, message.invocationId]
  if (message.error) return [...head, ResultKind.Error, message.error]
  if (message.result !== undefined) return [...head, ResultKind.NonVoid, message.result]
  return [...head, ResultKind.Void]
}

function unreachable(message: never): never {
  throw new TypeError(`Not a hub message: ${JSON.stringify(message)}`)
}
