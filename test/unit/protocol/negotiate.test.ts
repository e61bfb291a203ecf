import { describe, expect, it } from 'vitest'
import {
  parseNegotiateVersion,
  writeNegotiateError,
  writeNegotiateResponse,
} from '../../../src/protocol/negotiate.js'
import type { AvailableTransport } from '../../../src/protocol/negotiate.js'

const nonInteger = { error: 'The client requested a non-integer protocol version.' }
const unsupported = (n: number) => ({
  error: `The client requested version '${n}', but the server does not support this version.`,
})

describe('parseNegotiateVersion', () => {
  it.each([
    [null, { version: 0 }],
    ['0', { version: 0 }],
    ['1', { version: 1 }],
    ['2', { version: 1 }],
    ['2147483647', { version: 1 }],
    [' 1 ', { version: 1 }],
    ['+1', { version: 1 }],
    ['-0', { version: 0 }],
    ['', nonInteger],
    ['abc', nonInteger],
    ['1.0', nonInteger],
    ['1e1', nonInteger],
    ['0x1', nonInteger],
    ['1,1', nonInteger],
    ['2147483648', nonInteger],
    ['-1', unsupported(-1)],
  ])('maps %j to %j', (raw, expected) => {
    expect(parseNegotiateVersion(raw)).toEqual(expected)
  })

  it('refuses versions below the minimum, a missing one counting as 0', () => {
    expect(parseNegotiateVersion('0', 1)).toEqual(unsupported(0))
    expect(parseNegotiateVersion(null, 1)).toEqual(unsupported(0))
    expect(parseNegotiateVersion('1', 1)).toEqual({ version: 1 })
  })
})

describe('writeNegotiateResponse', () => {
  const transports: AvailableTransport[] = [
    { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
    { transport: 'ServerSentEvents', transferFormats: ['Text'] },
    { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
  ]
  const transportsJson =
    '[{"transport":"WebSockets","transferFormats":["Text","Binary"]},' +
    '{"transport":"ServerSentEvents","transferFormats":["Text"]},' +
    '{"transport":"LongPolling","transferFormats":["Text","Binary"]}]'

  it('writes version 1 with the token, in the .NET field order', () => {
    expect(
      writeNegotiateResponse({ negotiateVersion: 1, connectionId: 'id', connectionToken: 'tok', availableTransports: transports }),
    ).toBe(`{"negotiateVersion":1,"connectionId":"id","connectionToken":"tok","availableTransports":${transportsJson}}`)
  })

  it('leaves the token out for version 0', () => {
    expect(
      writeNegotiateResponse({ negotiateVersion: 0, connectionId: 'id', connectionToken: 'tok', availableTransports: transports }),
    ).toBe(`{"negotiateVersion":0,"connectionId":"id","availableTransports":${transportsJson}}`)
  })

  it('puts useStatefulReconnect first, only when true', () => {
    const base = { negotiateVersion: 1, connectionId: 'i', connectionToken: 't', availableTransports: [] } as const
    expect(writeNegotiateResponse({ ...base, useStatefulReconnect: true })).toBe(
      '{"useStatefulReconnect":true,"negotiateVersion":1,"connectionId":"i","connectionToken":"t","availableTransports":[]}',
    )
    expect(writeNegotiateResponse({ ...base, useStatefulReconnect: false })).toBe(
      '{"negotiateVersion":1,"connectionId":"i","connectionToken":"t","availableTransports":[]}',
    )
  })

  it('writes valid JSON the client can read', () => {
    const text = writeNegotiateResponse({
      negotiateVersion: 1,
      connectionId: 'a"b',
      connectionToken: 'c\\d',
      availableTransports: transports.slice(2),
    })
    expect(JSON.parse(text)).toEqual({
      negotiateVersion: 1,
      connectionId: 'a"b',
      connectionToken: 'c\\d',
      availableTransports: [{ transport: 'LongPolling', transferFormats: ['Text', 'Binary'] }],
    })
  })
})

describe('writeNegotiateError', () => {
  it('writes only the error property', () => {
    expect(writeNegotiateError(nonInteger.error)).toBe(
      '{"error":"The client requested a non-integer protocol version."}',
    )
  })
})
