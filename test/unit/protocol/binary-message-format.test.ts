import { describe, expect, it } from 'vitest'
import {
  lengthPrefixSize,
  PAYLOAD_TOO_LARGE_ERROR,
  splitFrames,
  writeFrame,
  writeLengthPrefix,
} from '../../../src/protocol/binary-message-format.js'

const hex = (text: string): Uint8Array => Uint8Array.from(text.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16))
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
const limitText = (n: number) =>
  `The maximum message size of ${n}B was exceeded. The message size can be configured in AddHubOptions.`

describe('binary message format: the VarInt length prefix', () => {
  // HubProtocol.md and BinaryMessageParser.cs give 0x35 = 53, 0x80 0x29 = 5248 and FF FF FF FF 07.
  it.each([
    [0, '00'],
    [1, '01'],
    [53, '35'],
    [127, '7f'],
    [128, '80 01'],
    [5248, '80 29'],
    [16383, 'ff 7f'],
    [16384, '80 80 01'],
    [2 ** 21, '80 80 80 01'],
    [2 ** 28, '80 80 80 80 01'],
    [2 ** 31 - 1, 'ff ff ff ff 07'],
  ])('writes %i as %s', (length, expected) => {
    const target = new Uint8Array(8)
    const written = writeLengthPrefix(length, target)
    expect(toHex(target.subarray(0, written))).toBe(expected)
    expect(lengthPrefixSize(length)).toBe(written)
  })

  it('reads back every prefix it writes', () => {
    for (const length of [0, 1, 127, 128, 300, 5248, 16384, 70000]) {
      const frame = writeFrame(new Uint8Array(length).fill(7))
      const { frames, rest, error } = splitFrames(frame)
      expect({ rest, error }).toEqual({ rest: undefined, error: undefined })
      expect(frames.map((f) => f.length)).toEqual([length])
    }
  })

  it('accepts a prefix that is not the shortest form, as .NET does', () => {
    expect(splitFrames(hex('80 00 81 00 06'))).toEqual({ frames: [hex(''), hex('06')] })
  })
})

describe('binary message format: splitting a stream', () => {
  const ping = hex('02 91 06')
  const ack = hex('05 92 08 cd 05 72')

  it('splits several frames in one chunk, in order, as views of the input', () => {
    const input = concat(ping, ack, ping)
    const { frames, rest } = splitFrames(input)
    expect(frames.map(toHex)).toEqual(['91 06', '92 08 cd 05 72', '91 06'])
    expect(rest).toBeUndefined()
    expect(frames[1]?.buffer).toBe(input.buffer)
  })

  it('returns nothing for an empty chunk', () => {
    expect(splitFrames(new Uint8Array())).toEqual({ frames: [] })
  })

  it('gives the same frames whatever byte position the stream is cut at', () => {
    const long = writeFrame(new Uint8Array(200).map((_, i) => i))
    const stream = concat(ping, long, ack)
    for (let cut = 0; cut <= stream.length; cut++) {
      const first = splitFrames(stream.subarray(0, cut))
      expect(first.error).toBeUndefined()
      const second = splitFrames(concat(first.rest ?? new Uint8Array(), stream.subarray(cut)))
      expect(second).toEqual({ frames: expect.any(Array) })
      expect([...first.frames, ...second.frames].map(toHex)).toEqual(
        [hex('91 06'), long.subarray(2), hex('92 08 cd 05 72')].map(toHex),
      )
    }
  })

  it.each([
    ['a prefix that is cut', '80'],
    ['a 4-byte prefix that is cut', 'ff ff ff ff'],
    ['a payload that is cut', '05 92 08 cd'],
    ['a prefix announcing 2^31 - 1 bytes', 'ff ff ff ff 07'],
  ])('keeps %s as rest', (_name, input) => {
    expect(splitFrames(concat(ping, hex(input)))).toEqual({ frames: [hex('91 06')], rest: hex(input) })
  })

  it.each([
    ['a fifth byte above 7', 'ff ff ff ff 08 00'],
    ['a fifth byte with the continuation bit', 'ff ff ff ff 80 00'],
    ['a prefix of 6 bytes', '80 80 80 80 80 00'],
  ])('refuses %s and keeps the frames before it', (_name, input) => {
    expect(splitFrames(concat(ping, hex(input)))).toEqual({ frames: [hex('91 06')], error: PAYLOAD_TOO_LARGE_ERROR })
  })
})

describe('binary message format: size limit', () => {
  it('counts the prefix: a frame of exactly the limit passes, one byte more fails', () => {
    expect(splitFrames(hex('02 91 06'), 3)).toEqual({ frames: [hex('91 06')] })
    expect(splitFrames(hex('02 91 06 02 91 06'), 2)).toEqual({ frames: [], error: limitText(2) })
    expect(splitFrames(hex('02 91 06 03 92 06 00'), 3)).toEqual({ frames: [hex('91 06')], error: limitText(3) })
  })

  it('fails as soon as the prefix announces too much, before the body arrives', () => {
    expect(splitFrames(hex('80 01'), 129)).toEqual({ frames: [], error: limitText(129) })
    expect(splitFrames(hex('80 01'), 130)).toEqual({ frames: [], rest: hex('80 01') })
    expect(splitFrames(hex('ff ff ff ff 07'), 32768)).toEqual({ frames: [], error: limitText(32768) })
  })

  it('fails for a cut prefix that can no longer fit', () => {
    expect(splitFrames(hex('80 80'), 2)).toEqual({ frames: [], error: limitText(2) })
    expect(splitFrames(hex('80 80'), 3)).toEqual({ frames: [], rest: hex('80 80') })
  })
})

describe('binary message format: writing', () => {
  it('puts the prefix and the payload in one array', () => {
    expect(toHex(writeFrame(hex('91 06')))).toBe('02 91 06')
    expect(toHex(writeFrame(new Uint8Array()))).toBe('00')
    const frame = writeFrame(new Uint8Array(128).fill(1))
    expect(frame.length).toBe(130)
    expect(toHex(frame.subarray(0, 3))).toBe('80 01 01')
  })

  it('copies a payload given as a view of a larger buffer', () => {
    const big = hex('aa 91 06 bb')
    expect(toHex(writeFrame(big.subarray(1, 3)))).toBe('02 91 06')
  })
})
