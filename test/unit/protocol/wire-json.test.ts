import { describe, expect, it } from 'vitest'
import { stringifyWireValue, toBase64 } from '../../../src/protocol/wire-json.js'

describe('toBase64', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 7, 255, 256, 257, 100_000])('matches Buffer for %i bytes, padding included', (length) => {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 151 + 7) & 0xff)
    expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString('base64'))
  })

  it('uses + and / (standard base64, as Convert.ToBase64String), not the URL alphabet', () => {
    expect(toBase64(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe('+/+/')
  })
})

describe('stringifyWireValue', () => {
  it('is JSON.stringify for values without bytes', () => {
    const value = { a: [1, 'x', null, { b: true }], at: new Date(0), skipped: undefined }
    expect(stringifyWireValue(value)).toBe(JSON.stringify(value))
    expect(stringifyWireValue(undefined)).toBeUndefined()
  })

  it('writes bytes found anywhere, as base64', () => {
    expect(stringifyWireValue({ a: [{ b: Buffer.from([1, 2, 3]) }] })).toBe('{"a":[{"b":"AQID"}]}')
    expect(stringifyWireValue(Uint8Array.of(255))).toBe('"/w=="')
  })
})
