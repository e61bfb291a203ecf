/**
 * A check of one msgpack value's declared lengths against the bytes that really follow, run
 * before a decoder sees it. A decoder that trusts a header allocates first: @msgpack/msgpack
 * makes `new Array(n)` for an array 32 header, so 5 bytes declaring 10 million elements cost
 * 80 MB, and a few such headers nested in a frame of some hundred bytes exhaust the heap.
 *
 * The walk goes once over the value's headers (MessagePack spec, "Formats") and skips payloads,
 * allocating nothing. It counts the values still owed to every open array and map: each takes at
 * least one byte, so a header that makes them more than the bytes left can never be filled and is
 * refused at once. str, bin and ext lengths are held to the bytes left. Arrays and maps may nest
 * MAX_MSGPACK_DEPTH levels, the value itself being level 1.
 */

/** Arrays and maps nested deeper than this are refused, as the JSON protocol refuses them. */
export const MAX_MSGPACK_DEPTH = 64

/** The text for bytes that are not one whole msgpack value; .NET's texts vary by case, this one is ours. */
export const MSGPACK_READ_ERROR = 'Error reading MessagePack data.'
export const MSGPACK_DEPTH_ERROR = `Error reading MessagePack data: arrays and maps nest deeper than ${MAX_MSGPACK_DEPTH} levels.`

/** A str, bin or ext whose declared length passes the end of the data. */
export function declaredBytesError(family: 'str' | 'bin' | 'ext', offset: number, length: number, left: number): string {
  return `Error reading MessagePack data: the ${family} at offset ${offset} declares ${length} bytes but ${left} remain.`
}

/**
 * An array or map whose elements, with the values still owed to the containers around it, need
 * more bytes than remain (each value takes at least one).
 */
export function declaredElementsError(family: 'array' | 'map', offset: number, count: number, owed: number, left: number): string {
  const declared = `the ${family} at offset ${offset} declares ${count} ${family === 'array' ? 'elements' : 'entries'}`
  const around = owed === 0 ? ',' : `; with the ${owed} ${owed === 1 ? 'value' : 'values'} still owed around it,`
  return `Error reading MessagePack data: ${declared}${around} more than the ${left} bytes left can hold.`
}

/**
 * Values still to read at each open level; level 0 holds the value itself. One buffer for all
 * calls: the walk is synchronous and never re-entered.
 */
const owedAt = new Float64Array(MAX_MSGPACK_DEPTH + 1)

/**
 * Checks that `data` holds exactly one msgpack value whose every declared length fits: undefined
 * when it does, else the refusal text. Linear in the number of values; never throws.
 */
export function checkMsgpackBounds(data: Uint8Array): string | undefined {
  const end = data.length
  let pos = 0
  let depth = 0
  /** Values still owed to all open levels together. */
  let owed = 1
  owedAt[0] = 1
  while (owed > 0) {
    // Close the levels that are complete; one with values owed is always left.
    while (owedAt[depth] === 0) depth--
    if (pos >= end) return MSGPACK_READ_ERROR
    const at = pos
    const head = data[pos++]!
    owed--
    owedAt[depth]! -= 1
    let family: 'array' | 'map'
    let count: number
    if (head <= 0x7f || head >= 0xe0) continue // positive and negative fixint
    if (head <= 0x8f) {
      family = 'map'
      count = head & 0x0f
    } else if (head <= 0x9f) {
      family = 'array'
      count = head & 0x0f
    } else if (head <= 0xbf) {
      const length = head & 0x1f
      if (length > end - pos) return declaredBytesError('str', at, length, end - pos)
      pos += length
      continue
    } else {
      const width = LENGTH_WIDTH[head - 0xc0]!
      if (width === RESERVED) return MSGPACK_READ_ERROR
      if (width === FIXED) {
        // A truncated fixed-size value leaves pos past the end: refused below.
        pos += FIXED_SIZE[head - 0xc0]!
        continue
      }
      if (width > end - pos) return MSGPACK_READ_ERROR
      const length = readLength(data, pos, width)
      pos += width
      if (head < 0xdc) {
        const bytesFamily = head >= 0xd9 ? 'str' : head <= 0xc6 ? 'bin' : 'ext'
        // ext 8/16/32 carry a type byte after the length, not counted in it.
        if (bytesFamily === 'ext') pos++
        const left = Math.max(0, end - pos)
        if (length > left) return declaredBytesError(bytesFamily, at, length, left)
        pos += length
        continue
      }
      family = head >= 0xde ? 'map' : 'array'
      count = length
    }
    if (depth + 1 > MAX_MSGPACK_DEPTH) return MSGPACK_DEPTH_ERROR
    const values = family === 'map' ? count * 2 : count
    if (values > end - pos - owed) return declaredElementsError(family, at, count, owed, end - pos)
    if (values === 0) continue
    owed += values
    owedAt[++depth] = values
  }
  return pos === end ? undefined : MSGPACK_READ_ERROR
}

const RESERVED = -1
const FIXED = 0

/**
 * For head bytes 0xc0-0xdf: the width in bytes of the length that follows the head (1, 2 or 4),
 * FIXED for a value of fixed size, RESERVED for 0xc1, which the spec never uses.
 */
const LENGTH_WIDTH: readonly number[] = [
  FIXED, RESERVED, FIXED, FIXED, // nil, (never used), false, true
  1, 2, 4, // bin 8/16/32
  1, 2, 4, // ext 8/16/32
  FIXED, FIXED, // float 32/64
  FIXED, FIXED, FIXED, FIXED, // uint 8/16/32/64
  FIXED, FIXED, FIXED, FIXED, // int 8/16/32/64
  FIXED, FIXED, FIXED, FIXED, FIXED, // fixext 1/2/4/8/16
  1, 2, 4, // str 8/16/32
  2, 4, // array 16/32
  2, 4, // map 16/32
]

/** For the FIXED head bytes of 0xc0-0xdf: the bytes after the head (a fixext's type byte included). */
const FIXED_SIZE: readonly number[] = [
  0, 0, 0, 0,
  0, 0, 0,
  0, 0, 0,
  4, 8,
  1, 2, 4, 8,
  1, 2, 4, 8,
  2, 3, 5, 9, 17,
  0, 0, 0,
  0, 0,
  0, 0,
]

/** A big-endian unsigned length of 1, 2 or 4 bytes; the top byte is multiplied so 32 bits stay unsigned. */
function readLength(data: Uint8Array, pos: number, width: number): number {
  if (width === 1) return data[pos]!
  if (width === 2) return (data[pos]! << 8) | data[pos + 1]!
  return data[pos]! * 0x1000000 + ((data[pos + 1]! << 16) | (data[pos + 2]! << 8) | data[pos + 3]!)
}
