import { describe, expect, it } from 'vitest'
import {
  exceedsMaxSize,
  RECORD_SEPARATOR,
  splitFrames,
  utf8ByteLength,
  writeFrame,
} from '../../../src/protocol/text-message-format.js'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (data: Uint8Array): string => new TextDecoder().decode(data)

describe('text message format', () => {
  it('uses 0x1E as the record separator', () => {
    expect(RECORD_SEPARATOR).toBe('\u001e')
    expect(writeFrame('{"type":6}')).toBe('{"type":6}\u001e')
  })

  it.each([
    ['', [], undefined],
    ['{}\u001e', ['{}'], undefined],
    ['{"a":1}\u001e{"b":2}\u001e', ['{"a":1}', '{"b":2}'], undefined],
    ['{"a":1}\u001e{"b"', ['{"a":1}'], '{"b"'],
    ['{"b"', [], '{"b"'],
    ['\u001e\u001e', ['', ''], undefined],
  ])('splits the string %j into whole frames and a rest', (input, frames, rest) => {
    expect(splitFrames(input)).toEqual(rest === undefined ? { frames } : { frames, rest })
  })

  it('splits bytes on 0x1E and keeps an unfinished frame as bytes', () => {
    const { frames, rest } = splitFrames(bytes('{"a":"é"}\u001e{"b":"€'))
    expect(frames.map(text)).toEqual(['{"a":"é"}'])
    expect(rest).toBeInstanceOf(Uint8Array)
    expect(text(rest ?? new Uint8Array())).toBe('{"b":"€')
  })

  it('gives no rest when bytes end exactly on a separator', () => {
    expect(splitFrames(bytes('{}\u001e')).rest).toBeUndefined()
  })

  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['\ud800', 3],
  ])('counts the UTF-8 bytes of %j as %i', (input, expected) => {
    expect(utf8ByteLength(input)).toBe(expected)
    expect(utf8ByteLength(input)).toBe(input.startsWith('\ud800') ? 3 : bytes(input).length)
  })

  it('counts the separator against the size limit, for text and bytes alike', () => {
    expect(exceedsMaxSize('abc', 4)).toBe(false)
    expect(exceedsMaxSize('abcd', 4)).toBe(true)
    expect(exceedsMaxSize(bytes('abc'), 4)).toBe(false)
    expect(exceedsMaxSize(bytes('abcd'), 4)).toBe(true)
    expect(exceedsMaxSize('€', 4)).toBe(false)
    expect(exceedsMaxSize('é€', 4)).toBe(true)
  })
})
