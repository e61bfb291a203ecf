/**
 * MessagePack hub frames whose headers declare far more than they carry: the declared-length
 * bombs that the tests, the fuzz and bench/attacks send. Built by hand, since no encoder writes
 * a length it does not fill.
 */
import { writeFrame } from '../../src/protocol/binary-message-format.js'

/** What each bomb header declares: ten million elements, about 80 MB of array slots in V8. */
export const BOMB_DECLARED_LENGTH = 10_000_000

/** `dd` + a big-endian uint32: an array 32 header declaring `length` elements (MessagePack spec, array format). */
export function array32Header(length: number): Uint8Array {
  return Uint8Array.of(0xdd, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff)
}

/** A frame of `levels` array 32 headers, each the first element of the one before, and nothing else. */
export function nestedArray32Bomb(levels: number, length = BOMB_DECLARED_LENGTH): Uint8Array {
  const payload = new Uint8Array(levels * 5)
  const header = array32Header(length)
  for (let level = 0; level < levels; level++) payload.set(header, level * 5)
  return writeFrame(payload)
}

/** 41 bytes: a 1-byte prefix and 8 headers (8 × 80 MB of slots before the fix). */
export const BOMB_41 = nestedArray32Bomb(8)
/** 402 bytes: a 2-byte prefix and 80 headers, past any heap limit before the fix. */
export const BOMB_402 = nestedArray32Bomb(80)
