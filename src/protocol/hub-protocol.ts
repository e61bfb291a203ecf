import type { HubMessage, TransferFormat } from './messages.js'

/** What one call to `parseMessages` produced: the whole messages, and the reason parsing stopped early. */
export interface ParseResult {
  readonly messages: HubMessage[]
  /**
   * Set when the input holds a message that cannot be understood. Messages before it are in
   * `messages`; nothing after it is parsed, because the stream cannot be resynchronised. The text
   * is the detail the .NET server would put after "InvalidDataException: ".
   */
  readonly error?: string
}

/** A SignalR hub protocol (JSON, MessagePack): pure encoding, no I/O. */
export interface HubProtocol {
  /** The name used in the handshake: `json` or `messagepack`. */
  readonly name: string
  /** The highest version this protocol accepts in the handshake. */
  readonly version: number
  readonly transferFormat: TransferFormat
  /** Parses whole frames from one transport message (which may hold several frames). */
  parseMessages(input: string | Uint8Array): ParseResult
  /** Encodes one message as one whole frame, ready for the transport. */
  writeMessage(message: HubMessage): string | Uint8Array
}
