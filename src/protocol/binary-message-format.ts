/**
 * Length-prefix framing of the MessagePack hub protocol (HubProtocol.md, "MessagePack (MsgPack)
 * encoding"; BinaryMessageParser.cs / BinaryMessageFormatter.cs in src/SignalR/common/Shared and
 * BinaryMessageFormat.ts in the TS client): every frame is a VarInt length followed by that many
 * bytes. The VarInt holds 7 bits per byte, least significant group first, and the high bit of a
 * byte says another byte follows. At most 5 bytes are allowed and the value may not pass
 * 2^31 - 1 (`FF FF FF FF 07`).
 */
import { maxMessageSizeError } from './json-hub-protocol.js'

/** The longest VarInt prefix: 5 × 7 bits covers 2^31 - 1 (BinaryMessageParser.cs MaxLengthPrefixSize). */
export const MAX_LENGTH_PREFIX_SIZE = 5
/** The largest payload a prefix may announce. */
export const MAX_PAYLOAD_SIZE = 0x7fffffff

/** The .NET server's text for a prefix longer than 5 bytes or above 2^31 - 1 (BinaryMessageParser.cs). */
export const PAYLOAD_TOO_LARGE_ERROR = 'Messages over 2GB in size are not supported.'

/** The whole frames of a chunk (prefixes removed), the start of an unfinished one, or an error. */
export interface BinaryFrames {
  /** Payloads of the whole frames, in order: views of the input, not copies. */
  readonly frames: Uint8Array[]
  /** From the prefix of the first unfinished frame to the end; absent when the chunk ends on a frame end. */
  readonly rest?: Uint8Array
  /** Why the frame after `frames` can never be read; nothing after it is looked at. */
  readonly error?: string
}

type Prefix =
  | { readonly kind: 'complete'; readonly length: number; readonly size: number }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'invalid' }

/**
 * Splits a stream chunk into frames. With `maxMessageSize`, a frame counts its prefix and payload
 * together, as the JSON format counts its separator (ParseOptions.maxMessageSize), and is refused
 * as soon as its prefix announces more, before the payload has arrived: waiting for a body that
 * can never be accepted would only buffer it.
 */
export function splitFrames(input: Uint8Array, maxMessageSize?: number): BinaryFrames {
  const frames: Uint8Array[] = []
  let offset = 0
  while (offset < input.length) {
    const prefix = readLengthPrefix(input, offset)
    if (prefix.kind === 'invalid') return { frames, error: PAYLOAD_TOO_LARGE_ERROR }
    if (prefix.kind === 'incomplete') {
      // The prefix so far plus at least one more byte: already too large means it never fits.
      const atLeast = input.length - offset + 1
      if (maxMessageSize !== undefined && atLeast > maxMessageSize) {
        return { frames, error: maxMessageSizeError(maxMessageSize) }
      }
      return { frames, rest: input.subarray(offset) }
    }
    const end = offset + prefix.size + prefix.length
    if (maxMessageSize !== undefined && prefix.size + prefix.length > maxMessageSize) {
      return { frames, error: maxMessageSizeError(maxMessageSize) }
    }
    if (end > input.length) return { frames, rest: input.subarray(offset) }
    frames.push(input.subarray(offset + prefix.size, end))
    offset = end
  }
  return { frames }
}

/**
 * Reads the VarInt at `offset`. Like the .NET parser, a prefix that is not the shortest form
 * (`80 00` for 0) is accepted; a fifth byte that still has the high bit set, or is above 7, is not.
 */
function readLengthPrefix(input: Uint8Array, offset: number): Prefix {
  let length = 0
  for (let i = 0; i < MAX_LENGTH_PREFIX_SIZE; i++) {
    const byte = input[offset + i]
    if (byte === undefined) return { kind: 'incomplete' }
    if (i === MAX_LENGTH_PREFIX_SIZE - 1 && byte > 0x07) return { kind: 'invalid' }
    // Multiplication, not <<, so the fifth group cannot flip the sign of a 32-bit integer.
    length += (byte & 0x7f) * 2 ** (7 * i)
    if ((byte & 0x80) === 0) return { kind: 'complete', length, size: i + 1 }
  }
  return { kind: 'invalid' }
}

/** The number of bytes the VarInt of `length` takes: 1 up to 127, 5 from 2^28. */
export function lengthPrefixSize(length: number): number {
  let size = 1
  for (let rest = length >>> 7; rest > 0; rest >>>= 7) size++
  return size
}

/** Writes the VarInt of `length` into `target` at `offset`; returns the number of bytes written. */
export function writeLengthPrefix(length: number, target: Uint8Array, offset = 0): number {
  let rest = length
  let i = offset
  while (rest > 0x7f) {
    target[i++] = (rest & 0x7f) | 0x80
    rest >>>= 7
  }
  target[i++] = rest
  return i - offset
}

/**
 * Frames a payload: prefix and payload in one new array, so a broadcast is framed once and the
 * same bytes go to every connection. Throws a RangeError above 2^31 - 1 bytes, which no peer reads.
 */
export function writeFrame(payload: Uint8Array): Uint8Array {
  const length = payload.length
  if (length > MAX_PAYLOAD_SIZE) throw new RangeError(PAYLOAD_TOO_LARGE_ERROR)
  const frame = new Uint8Array(lengthPrefixSize(length) + length)
  frame.set(payload, writeLengthPrefix(length, frame))
  return frame
}
