import { decode, encode } from '@msgpack/msgpack'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { writeFrame } from '../../../src/protocol/binary-message-format.js'
import { messagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'
import {
  checkMsgpackBounds,
  declaredBytesError,
  declaredElementsError,
  MAX_MSGPACK_DEPTH,
  MSGPACK_DEPTH_ERROR,
  MSGPACK_READ_ERROR,
} from '../../../src/protocol/msgpack-bounds.js'
import { BOMB_402, BOMB_41, nestedArray32Bomb } from '../../support/msgpack-bombs.js'

const hex = (text: string): Uint8Array => Uint8Array.from(text.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16))
const repeat = (byte: string, times: number): string => Array(times).fill(byte).join(' ')

describe('checkMsgpackBounds: declared lengths past the data', () => {
  // Payloads written by hand from the MessagePack spec ("Formats"), every width of every family.
  const cases: [string, string, string][] = [
    ['a fixarray of 15 with 2 bytes', '9f 01 02', declaredElementsError('array', 0, 15, 0, 2)],
    ['an array 16 of 65535 with 2 bytes', 'dc ff ff 01 02', declaredElementsError('array', 0, 65535, 0, 2)],
    ['an array 32 of 10 000 000 with 1 byte', 'dd 00 98 96 80 01', declaredElementsError('array', 0, 10_000_000, 0, 1)],
    ['an array 32 of 2^32 - 1 with nothing', 'dd ff ff ff ff', declaredElementsError('array', 0, 4_294_967_295, 0, 0)],
    ['a fixmap of 1 entry with 1 byte', '81 01', declaredElementsError('map', 0, 1, 0, 1)],
    ['a map 16 of 2 entries with 3 bytes', 'de 00 02 01 02 03', declaredElementsError('map', 0, 2, 0, 3)],
    ['a map 32 of 10 000 000 with 2 bytes', 'df 00 98 96 80 a0 01', declaredElementsError('map', 0, 10_000_000, 0, 2)],
    ['a fixstr of 5 with 2 bytes', 'a5 61 62', declaredBytesError('str', 0, 5, 2)],
    ['a str 8 of 255 with 1 byte', 'd9 ff 61', declaredBytesError('str', 0, 255, 1)],
    ['a str 16 of 65535 with 1 byte', 'da ff ff 61', declaredBytesError('str', 0, 65535, 1)],
    ['a str 32 of 2^32 - 1 with 1 byte', 'db ff ff ff ff 61', declaredBytesError('str', 0, 4_294_967_295, 1)],
    ['a bin 8 of 5 with 1 byte', 'c4 05 01', declaredBytesError('bin', 0, 5, 1)],
    ['a bin 16 of 256 with 1 byte', 'c5 01 00 01', declaredBytesError('bin', 0, 256, 1)],
    ['a bin 32 of 2^32 - 1 with nothing', 'c6 ff ff ff ff', declaredBytesError('bin', 0, 4_294_967_295, 0)],
    ['an ext 8 of 5 with 1 byte after its type', 'c7 05 01 aa', declaredBytesError('ext', 0, 5, 1)],
    ['an ext 16 of 65535 with nothing after its type', 'c8 ff ff 01', declaredBytesError('ext', 0, 65535, 0)],
    ['an ext 32 of 2^32 - 1 without its type byte', 'c9 ff ff ff ff', declaredBytesError('ext', 0, 4_294_967_295, 0)],
    // Each fits alone; together with what the outer array still owes, they do not.
    ['an array 16 of 2 with 2 bytes, the outer array owing 1', '92 dc 00 02 01 02', declaredElementsError('array', 1, 2, 1, 2)],
    ['a fixmap of 1 with 2 bytes, the outer arrays owing 3', '93 92 81 01 02 03', declaredElementsError('map', 2, 1, 3, 3)],
    [
      'an array 32 bomb in the arguments of an invocation',
      '95 01 80 c0 a1 74 91 dd 00 98 96 80',
      declaredElementsError('array', 7, 10_000_000, 0, 0),
    ],
    ['nested array 32 headers, the 41-byte frame', repeat('dd 00 98 96 80', 8), declaredElementsError('array', 0, 10_000_000, 0, 35)],
    ['nested array 32 headers, the 402-byte frame', repeat('dd 00 98 96 80', 80), declaredElementsError('array', 0, 10_000_000, 0, 395)],
    ['nested map 32 headers', repeat('df 00 98 96 80 a0', 8), declaredElementsError('map', 0, 10_000_000, 0, 43)],
  ]

  it.each(cases)('refuses %s', (_name, payload, error) => {
    expect(checkMsgpackBounds(hex(payload))).toBe(error)
  })

  it('names the error in words a client can act on', () => {
    expect(checkMsgpackBounds(hex('dd 00 98 96 80'))).toBe(
      'Error reading MessagePack data: the array at offset 0 declares 10000000 elements, more than the 0 bytes left can hold.',
    )
    expect(checkMsgpackBounds(hex('92 dc 00 02 01 02'))).toBe(
      'Error reading MessagePack data: the array at offset 1 declares 2 elements; with the 1 value still owed around it, more than the 2 bytes left can hold.',
    )
    expect(checkMsgpackBounds(hex('db ff ff ff ff 61'))).toBe('Error reading MessagePack data: the str at offset 0 declares 4294967295 bytes but 1 remain.')
  })
})

describe('checkMsgpackBounds: malformed values', () => {
  const cases: [string, string][] = [
    ['nothing', ''],
    ['the never-used byte c1', 'c1'],
    ['c1 inside an array', '92 01 c1'],
    ['a cut float 64', 'cb 3f f8'],
    ['a cut uint 32', 'ce 00 01'],
    ['a cut fixext 16', 'd8 01 00'],
    ['a cut array 32 length', 'dd 00 00'],
    ['a cut str 16 length', 'da 00'],
    ['an array missing its last element', '92 cd 00 01'],
    ['bytes after the value', '91 06 06'],
    ['two values', '01 02'],
  ]

  it.each(cases)('refuses %s as unreadable', (_name, payload) => {
    expect(checkMsgpackBounds(hex(payload))).toBe(MSGPACK_READ_ERROR)
  })
})

describe('checkMsgpackBounds: nesting', () => {
  const arrays = (levels: number, leaf: string): string => `${repeat('91', levels)} ${leaf}`

  it.each([
    ['64 arrays around a number', arrays(MAX_MSGPACK_DEPTH, '01'), undefined],
    ['63 arrays around an empty one (64 levels)', arrays(MAX_MSGPACK_DEPTH - 1, '90'), undefined],
    ['64 arrays around an empty one (65 levels)', arrays(MAX_MSGPACK_DEPTH, '90'), MSGPACK_DEPTH_ERROR],
    ['65 arrays around a number', arrays(MAX_MSGPACK_DEPTH + 1, '01'), MSGPACK_DEPTH_ERROR],
    ['64 maps around a number', `${repeat('81 a0', MAX_MSGPACK_DEPTH)} 01`, undefined],
    ['65 maps around a number', `${repeat('81 a0', MAX_MSGPACK_DEPTH + 1)} 01`, MSGPACK_DEPTH_ERROR],
    ['30 000 arrays, refused at level 65', arrays(30_000, 'c0'), MSGPACK_DEPTH_ERROR],
  ] as const)('%s: %s', (_name, payload, expected) => {
    expect(checkMsgpackBounds(hex(payload))).toBe(expected)
  })

  it('counts levels, not containers: 64 levels wide open and closed again are accepted', () => {
    // [[...64 deep...], [...64 deep...]]: two siblings, each reaching level 64.
    const deep = arrays(MAX_MSGPACK_DEPTH - 1, '01')
    expect(checkMsgpackBounds(hex(`92 ${deep} ${deep}`))).toBeUndefined()
  })
})

describe('checkMsgpackBounds: real values', () => {
  const large = Array.from({ length: 100_000 }, (_, i) => i % 100)
  const bigMap = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i]))

  it.each([
    ['an empty array 32', hex('dd 00 00 00 00')],
    ['an empty map 32', hex('df 00 00 00 00')],
    ['an array 16 exactly filled by its elements', hex(`dc 00 05 ${repeat('01', 5)}`)],
    ['an array 32 of 100 000 numbers', encode(large)],
    ['a map 32 of 70 000 entries', encode(bigMap)],
    ['a str 32 of 70 000 bytes', encode('x'.repeat(70_000))],
    ['a bin 32 of 70 000 bytes', encode(new Uint8Array(70_000))],
    ['an ext 32 of 70 000 bytes', hex(`c9 00 01 11 70 05 ${repeat('00', 70_000)}`)],
    ['fixext 1 to 16 and timestamps', encode([new Date(0), new Date(1_700_000_000_123), new Date(-1)])],
    ['every scalar', encode([null, true, false, 0, -1, -33, 255, 65535, 2 ** 32, -(2 ** 40), 1.5, 'é', new Uint8Array(3)])],
  ])('accepts %s', (_name, payload) => {
    expect(checkMsgpackBounds(payload)).toBeUndefined()
    expect(() => decode(payload)).not.toThrow()
  })

  it('accepts whatever @msgpack/msgpack encodes, up to 64 levels', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('array'), tie('map')),
      leaf: fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.double(), fc.string(), fc.uint8Array({ maxLength: 300 }), fc.date({ noInvalidDate: true })),
      array: fc.array(tie('node'), { maxLength: 5 }),
      map: fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 5 }),
    })).node
    fc.assert(
      fc.property(value, (v) => {
        expect(checkMsgpackBounds(encode(v))).toBeUndefined()
      }),
      { seed: 0x6b0b, numRuns: 500 },
    )
  })

  it('agrees with the decoder on any bytes: what it passes decodes without running out of data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        if (checkMsgpackBounds(bytes) !== undefined) return
        try {
          decode(bytes)
        } catch (error) {
          // Left to the decoder on purpose: map keys that are not strings or numbers, bad timestamps.
          expect((error as Error).message).toMatch(/^(The type of key must be string or number|The key __proto__ is not allowed|Unrecognized data size for timestamp)/)
        }
      }),
      { seed: 0x6b0c, numRuns: 5000 },
    )
  })
})

describe('MessagePackHubProtocol.parseMessages: declared-length bombs', () => {
  it.each([
    ['the 41-byte frame of 8 nested array 32 headers', BOMB_41, 35],
    ['the 402-byte frame of 80 nested array 32 headers', BOMB_402, 395],
  ])('refuses %s with the precise error, before decoding', (_name, frame, left) => {
    expect(frame.length).toBe(_name.startsWith('the 41') ? 41 : 402)
    expect(messagePackHubProtocol.parseMessages(frame)).toEqual({ messages: [], error: declaredElementsError('array', 0, 10_000_000, 0, left) })
  })

  it('keeps the messages before a bomb and reads nothing after it', () => {
    const ping = hex('02 91 06')
    const frames = new Uint8Array([...ping, ...nestedArray32Bomb(3), ...ping])
    expect(messagePackHubProtocol.parseMessages(frames)).toEqual({ messages: [{ type: 6 }], error: declaredElementsError('array', 0, 10_000_000, 0, 10) })
  })

  it('leaves no memory behind after a thousand bombs', () => {
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1000; i++) messagePackHubProtocol.parseMessages(BOMB_402)
    // One unguarded array 32 header costs 80 MB; the guarded parse costs nothing that stays.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(20 * 1024 * 1024)
  })

  it('still reads a real invocation with a large argument', () => {
    const frame = writeFrame(encode([1, {}, null, 't', [Array.from({ length: 5000 }, (_, i) => i)]]))
    const result = messagePackHubProtocol.parseMessages(frame)
    expect(result.error).toBeUndefined()
    expect(result.messages).toHaveLength(1)
  })
})

describe('the way into the decoder', () => {
  it('is MessagePackHubProtocol.parseMessages alone, behind the bounds check', () => {
    // Every transport (WebSockets, long-polling and SSE POSTs) hands its bytes to the connection's
    // protocol; a second importer of the decoder would be a path around the check.
    const src = fileURLToPath(new URL('../../../src/', import.meta.url))
    const importers = readdirSync(src, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from '@msgpack\/msgpack'/.test(readFileSync(src + file, 'utf8')))
    expect(importers).toEqual(['protocol/messagepack-hub-protocol.ts'])
    const protocol = readFileSync(src + 'protocol/messagepack-hub-protocol.ts', 'utf8')
    expect(protocol.match(/decoder\.decode/g)).toHaveLength(1)
    expect(protocol.match(/this\.decode\(/g)).toHaveLength(1)
  })
})
