/**
 * fast-check models of MessagePack declared-length bombs, shared by the parser properties and the
 * server fuzz: headers of arrays, maps, str, bin and ext in every width (MessagePack spec,
 * "Formats") that declare more than their frame holds, nested in containers and placed where a
 * hub message carries values. Also a looser mix of headers of any declared length and any bytes.
 */
import fc from 'fast-check'
import { writeFrame } from '../../src/protocol/binary-message-format.js'
import { MSGPACK_DEPTH_ERROR, MSGPACK_READ_ERROR } from '../../src/protocol/msgpack-bounds.js'
import { concatBytes } from './hub-message-arbitraries.js'

interface Format {
  readonly family: 'array' | 'map' | 'str' | 'bin' | 'ext'
  readonly head: number
  /** Bytes of the length after the head; 0 for a fix format, whose length sits in the head. */
  readonly width: 0 | 1 | 2 | 4
  readonly max: number
}

const U8 = 0xff
const U16 = 0xffff
const U32 = 0xffff_ffff

const FORMATS: readonly Format[] = [
  { family: 'array', head: 0x90, width: 0, max: 15 },
  { family: 'array', head: 0xdc, width: 2, max: U16 },
  { family: 'array', head: 0xdd, width: 4, max: U32 },
  { family: 'map', head: 0x80, width: 0, max: 15 },
  { family: 'map', head: 0xde, width: 2, max: U16 },
  { family: 'map', head: 0xdf, width: 4, max: U32 },
  { family: 'str', head: 0xa0, width: 0, max: 31 },
  { family: 'str', head: 0xd9, width: 1, max: U8 },
  { family: 'str', head: 0xda, width: 2, max: U16 },
  { family: 'str', head: 0xdb, width: 4, max: U32 },
  { family: 'bin', head: 0xc4, width: 1, max: U8 },
  { family: 'bin', head: 0xc5, width: 2, max: U16 },
  { family: 'bin', head: 0xc6, width: 4, max: U32 },
  { family: 'ext', head: 0xc7, width: 1, max: U8 },
  { family: 'ext', head: 0xc8, width: 2, max: U16 },
  { family: 'ext', head: 0xc9, width: 4, max: U32 },
]

const CONTAINERS = FORMATS.filter((f) => f.family === 'array' || f.family === 'map')

/** The header of `format` declaring `length`: head, big-endian length, and an ext's type byte. */
function header(format: Format, length: number): Uint8Array {
  const bytes = [format.width === 0 ? format.head | length : format.head]
  for (let i = format.width - 1; i >= 0; i--) bytes.push(Math.floor(length / 256 ** i) % 256)
  if (format.family === 'ext') bytes.push(0x05)
  return Uint8Array.from(bytes)
}

/** A header of one of `formats` declaring a length from `min` up to what its width holds. */
function headerOf(formats: readonly Format[], min: number): fc.Arbitrary<Uint8Array> {
  return fc
    .constantFrom(...formats.filter((f) => f.max >= min))
    .chain((format) =>
      fc.oneof(fc.constantFrom(format.max, Math.min(format.max, 10_000_000), Math.max(min, format.max >>> 1)), fc.integer({ min, max: format.max })).map((length) => header(format, length)),
    )
}

/** Where a bomb may sit in a hub message: the value itself, arguments, an argument, an item, a header. */
const PLACES: readonly Uint8Array[] = [
  '',
  '95 01 80 c0 a1 74',
  '95 01 80 c0 a1 74 91',
  '95 01 80 c0 a7 70 75 62 6c 69 73 68 92 a1 78',
  '94 02 80 a1 31',
  '93 05 81 a1 6b',
].map((hex) => Uint8Array.from(hex.split(' ').filter(Boolean), (b) => parseInt(b, 16)))

/**
 * A frame that can never be read: up to 80 container headers of any size nest around one header
 * declaring at least 1024 elements or bytes, while the whole frame holds under 600 bytes. However
 * it is built, the bounds check refuses it before anything is decoded.
 */
export const declaredLengthBomb: fc.Arbitrary<Uint8Array> = fc
  .tuple(fc.constantFrom(...PLACES), fc.array(headerOf(CONTAINERS, 0), { maxLength: 80 }), headerOf(FORMATS, 1024), fc.uint8Array({ maxLength: 16 }))
  .map(([place, around, bomb, tail]) => writeFrame(concatBytes([place, ...around, bomb, tail])))

/** Headers of any format and declared length, in any order, between any bytes: sometimes readable. */
export const msgpackHeaderSoup: fc.Arbitrary<Uint8Array> = fc
  .array(fc.oneof(headerOf(FORMATS, 0), fc.uint8Array({ maxLength: 6 }), fc.constantFrom(...PLACES)), { maxLength: 40 })
  .map((parts) => writeFrame(concatBytes(parts)))

/** The refusals of the bounds check (msgpack-bounds.ts): a declared length, nesting, or bytes that are not one value. */
export const MSGPACK_BOUNDS_ERRORS: readonly RegExp[] = [
  /^Error reading MessagePack data: the (str|bin|ext) at offset \d+ declares \d+ bytes but \d+ remain\.$/,
  /^Error reading MessagePack data: the (array at offset \d+ declares \d+ elements|map at offset \d+ declares \d+ entries)(,|; with the \d+ values? still owed around it,) more than the \d+ bytes left can hold\.$/,
  new RegExp(`^${MSGPACK_DEPTH_ERROR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
  new RegExp(`^${MSGPACK_READ_ERROR.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
]
