import type { HubMessage, TransferFormat } from './messages.js'

/** What one call to `parseMessages` produced. */
export interface ParseResult {
  /** The whole messages found, in order. Messages of unknown type are skipped (HubProtocol.md). */
  readonly messages: HubMessage[]
  /**
   * The trailing bytes of a frame that has not ended yet. The caller keeps them and passes them
   * back in front of the next input: the .NET client may split one frame over several transport
   * messages, so the input is a stream, not a sequence of whole frames.
   */
  readonly rest?: string | Uint8Array
  /**
   * Set when the input holds a message that cannot be understood, or one larger than
   * `maxMessageSize`. Messages before it are in `messages`; nothing after it is parsed, because the
   * stream cannot be resynchronised. The text is the detail the .NET server would put after
   * "InvalidDataException: ", e.g. "The maximum message size of 32768B was exceeded. ...".
   */
  readonly error?: string
  /**
   * With `ParseOptions.measure`: the size of each message's frame, index for index with
   * `messages` (separator or length prefix included). Bytes for binary input; UTF-16 code units
   * for text input, which equal the UTF-8 bytes of ASCII JSON and are free to read.
   */
  readonly sizes?: number[]
}

export interface ParseOptions {
  /**
   * Largest allowed frame in bytes, separator or length prefix included: the .NET server gives the
   * parser a window of this many bytes that must hold the whole frame (HubConnectionHandler.cs).
   */
  readonly maxMessageSize?: number
  /** Report the size of each message's frame in `sizes` (what a caller charges its buffers by). */
  readonly measure?: boolean
}

/** A SignalR hub protocol (JSON, MessagePack): pure encoding, no I/O. */
export interface HubProtocol {
  /** The name used in the handshake: `json` or `messagepack`. */
  readonly name: string
  /** The highest version this protocol accepts in the handshake. */
  readonly version: number
  readonly transferFormat: TransferFormat
  /** Parses the frames in `input` (a stream chunk: may hold several frames and a partial one). */
  parseMessages(input: string | Uint8Array, options?: ParseOptions): ParseResult
  /** Encodes one message as one whole frame, ready for the transport. */
  writeMessage(message: HubMessage): string | Uint8Array
}
