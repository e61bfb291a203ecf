/**
 * Record-separator framing of the JSON hub protocol and the handshake (HubProtocol.md, "JSON
 * Encoding"; TextMessageFormat.ts / TextMessageParser.cs in dotnet/aspnetcore): every frame is
 * UTF-8 text followed by 0x1E, and 0x1E never occurs inside JSON text, so a frame ends at the
 * first separator.
 */
export const RECORD_SEPARATOR = '\x1e'
export const RECORD_SEPARATOR_CODE = 0x1e

/** The whole frames of a chunk (separators removed) and the start of an unfinished one. */
export interface Frames<T extends string | Uint8Array> {
  readonly frames: T[]
  /** What follows the last separator; absent when the chunk ends exactly on a separator. */
  readonly rest?: T
}

/**
 * Splits a stream chunk into frames. A Uint8Array is split on byte 0x1E before any decoding, so a
 * multi-byte UTF-8 character cut between two transport messages stays whole in `rest`. The frames
 * and `rest` of a Uint8Array are views of the input, not copies.
 */
export function splitFrames(input: string): Frames<string>
export function splitFrames(input: Uint8Array): Frames<Uint8Array>
export function splitFrames(input: string | Uint8Array): Frames<string> | Frames<Uint8Array>
export function splitFrames(input: string | Uint8Array): Frames<string> | Frames<Uint8Array> {
  return typeof input === 'string' ? splitText(input) : splitBytes(input)
}

function splitText(input: string): Frames<string> {
  const frames: string[] = []
  let start = 0
  let end = input.indexOf(RECORD_SEPARATOR)
  while (end !== -1) {
    frames.push(input.slice(start, end))
    start = end + 1
    end = input.indexOf(RECORD_SEPARATOR, start)
  }
  return start < input.length ? { frames, rest: input.slice(start) } : { frames }
}

function splitBytes(input: Uint8Array): Frames<Uint8Array> {
  const frames: Uint8Array[] = []
  let start = 0
  let end = input.indexOf(RECORD_SEPARATOR_CODE)
  while (end !== -1) {
    frames.push(input.subarray(start, end))
    start = end + 1
    end = input.indexOf(RECORD_SEPARATOR_CODE, start)
  }
  return start < input.length ? { frames, rest: input.subarray(start) } : { frames }
}

/** Appends the separator that ends a frame. */
export function writeFrame(payload: string): string {
  return payload + RECORD_SEPARATOR
}

/**
 * The UTF-8 size of `text` in bytes, or of its first part once that passes `limit` (the caller
 * only needs to know the limit was passed). Counted by hand because the protocol layer stays free
 * of node:buffer; a lone surrogate counts 3 bytes, as TextEncoder would write U+FFFD.
 */
export function utf8ByteLength(text: string, limit = Number.POSITIVE_INFINITY): number {
  let bytes = 0
  for (let i = 0; i < text.length && bytes <= limit; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff
}

/**
 * Whether a frame of this payload breaks the limit. The .NET server gives the parser a window of
 * `maxMessageSize` bytes that must hold the payload and its separator (HubConnectionHandler.cs,
 * DispatchMessagesAsync), so the separator counts. An unfinished payload that already fills the
 * window can never fit either.
 */
export function exceedsMaxSize(payload: string | Uint8Array, maxMessageSize: number): boolean {
  if (typeof payload !== 'string') return payload.length + 1 > maxMessageSize
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most frames skip the count.
  if (payload.length * 3 + 1 <= maxMessageSize) return false
  return utf8ByteLength(payload, maxMessageSize) + 1 > maxMessageSize
}
