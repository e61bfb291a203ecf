import { NullLogger } from '@microsoft/signalr'
import type { HubMessage as ClientHubMessage } from '@microsoft/signalr'
import { MessagePackHubProtocol as ClientMessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { describe, expect, it } from 'vitest'
import { messagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

// The official client (@microsoft/signalr-protocol-msgpack) is the source of truth for what a
// browser sends and accepts; its message objects are compared as it builds them.
const client = new ClientMessagePackHubProtocol()
const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
const toArrayBuffer = (bytes: Uint8Array): ArrayBuffer =>
  bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer
const clientReads = (bytes: Uint8Array): unknown[] => client.parseMessages(toArrayBuffer(bytes), NullLogger.instance)
const clientWrites = (message: Record<string, unknown>): Uint8Array =>
  new Uint8Array(client.writeMessage(message as unknown as ClientHubMessage))

/** The ComplexObject of the TS client functional tests (HubConnectionTests.ts): bin and DateTime values. */
const complexObject = {
  String: 'Hello, World!',
  IntArray: [1, 2, 3],
  ByteArray: Uint8Array.of(0xa, 0xb, 0xc),
  DateTime: new Date(Date.UTC(2002, 4, 9, 12, 0, 0, 345)),
  GUID: '00010203-0405-0607-0706-050403020100',
  NullableInt: null,
}

describe('the official msgpack client reads what the server writes', () => {
  const cases: [string, HubMessage, unknown][] = [
    [
      'an invocation with a ComplexObject argument',
      { type: 1, invocationId: '1', target: 'echo', arguments: [complexObject, 42] },
      { type: 1, invocationId: '1', target: 'echo', arguments: [complexObject, 42], headers: {}, streamIds: [] },
    ],
    [
      'a broadcast with headers',
      { type: 1, target: 'refresh', arguments: ['x'], headers: { k: 'v' } },
      { type: 1, target: 'refresh', arguments: ['x'], headers: { k: 'v' }, streamIds: [] },
    ],
    [
      'a stream item with a Date and bytes',
      { type: 2, invocationId: '3', item: { at: new Date(0), data: Uint8Array.of(1) } },
      { type: 2, invocationId: '3', item: { at: new Date(0), data: Uint8Array.of(1) }, headers: {} },
    ],
    [
      'a completion with a result',
      { type: 3, invocationId: '1', result: complexObject },
      { type: 3, invocationId: '1', result: complexObject, error: undefined, headers: {} },
    ],
    [
      'a completion with a null result',
      { type: 3, invocationId: '1', result: null },
      { type: 3, invocationId: '1', result: null, error: undefined, headers: {} },
    ],
    [
      'a void completion',
      { type: 3, invocationId: '1' },
      { type: 3, invocationId: '1', result: undefined, error: undefined, headers: {} },
    ],
    [
      'a completion with an error',
      { type: 3, invocationId: '1', error: 'bad' },
      { type: 3, invocationId: '1', result: undefined, error: 'bad', headers: {} },
    ],
    ['a ping', { type: 6 }, { type: 6 }],
    ['a close', { type: 7 }, { type: 7, error: null, allowReconnect: false }],
    [
      'a close with an error',
      { type: 7, error: 'Server closed', allowReconnect: true },
      { type: 7, error: 'Server closed', allowReconnect: true },
    ],
    ['an ack', { type: 8, sequenceId: 70000 }, { type: 8, sequenceId: 70000 }],
    ['a sequence', { type: 9, sequenceId: 1 }, { type: 9, sequenceId: 1 }],
  ]

  it.each(cases)('reads %s', (_name, message, expected) => {
    expect(clientReads(messagePackHubProtocol.writeMessage(message))).toEqual([expected])
  })

  it('reads several frames joined into one transport message', () => {
    const frames = cases.map(([, message]) => messagePackHubProtocol.writeMessage(message))
    const joined = new Uint8Array(frames.reduce((n, f) => n + f.length, 0))
    frames.reduce((offset, frame) => (joined.set(frame, offset), offset + frame.length), 0)
    expect(clientReads(joined)).toEqual(cases.map(([, , expected]) => expected))
  })
})

describe('the server reads what the official msgpack client writes', () => {
  const cases: [string, Record<string, unknown>, HubMessage][] = [
    [
      'an invoke',
      { type: 1, invocationId: '0', target: 'echo', arguments: [complexObject] },
      { type: 1, invocationId: '0', target: 'echo', arguments: [complexObject] },
    ],
    ['a send', { type: 1, target: 'send', arguments: [1, 'a'] }, { type: 1, target: 'send', arguments: [1, 'a'] }],
    [
      'an invoke with stream ids',
      { type: 1, invocationId: '1', target: 'upload', arguments: [], streamIds: ['2', '3'] },
      { type: 1, invocationId: '1', target: 'upload', arguments: [], streamIds: ['2', '3'] },
    ],
    [
      'a stream invocation',
      { type: 4, invocationId: '4', target: 'counter', arguments: [10, 5] },
      { type: 4, invocationId: '4', target: 'counter', arguments: [10, 5] },
    ],
    [
      'a stream invocation with stream ids',
      { type: 4, invocationId: '4', target: 'pipe', arguments: [], streamIds: ['5'] },
      { type: 4, invocationId: '4', target: 'pipe', arguments: [], streamIds: ['5'] },
    ],
    [
      'a stream item with bytes',
      { type: 2, invocationId: '2', item: Uint8Array.of(9, 8) },
      { type: 2, invocationId: '2', item: Uint8Array.of(9, 8) },
    ],
    [
      'a client result',
      { type: 3, invocationId: '5', result: { a: [1] } },
      { type: 3, invocationId: '5', result: { a: [1] } },
    ],
    ['a client result of null', { type: 3, invocationId: '5', result: null }, { type: 3, invocationId: '5', result: null }],
    ['a stream completion', { type: 3, invocationId: '2' }, { type: 3, invocationId: '2' }],
    ['a client error', { type: 3, invocationId: '5', error: 'no' }, { type: 3, invocationId: '5', error: 'no' }],
    ['a cancel', { type: 5, invocationId: '4' }, { type: 5, invocationId: '4' }],
    ['a ping', { type: 6 }, { type: 6 }],
    ['a close', { type: 7 }, { type: 7 }],
    ['an ack', { type: 8, sequenceId: 2 ** 40 }, { type: 8, sequenceId: 2 ** 40 }],
    ['a sequence', { type: 9, sequenceId: 12 }, { type: 9, sequenceId: 12 }],
  ]

  it.each(cases)('reads %s', (_name, message, expected) => {
    expect(messagePackHubProtocol.parseMessages(clientWrites(message))).toEqual({ messages: [expected] })
  })

  it('accepts the 5-element invocation the client writes without stream ids', () => {
    const bytes = clientWrites({ type: 1, invocationId: '0', target: 't', arguments: [] })
    expect(toHex(bytes)).toBe('08 95 01 80 a1 30 a1 74 90')
    expect(messagePackHubProtocol.parseMessages(bytes).messages).toEqual([
      { type: 1, invocationId: '0', target: 't', arguments: [] },
    ])
  })

  it('accepts the 2-element close the client writes', () => {
    const bytes = clientWrites({ type: 7 })
    expect(toHex(bytes)).toBe('03 92 07 c0')
    expect(messagePackHubProtocol.parseMessages(bytes).messages).toEqual([{ type: 7 }])
  })

  it('writes a ping with the same bytes as the client', () => {
    expect(toHex(messagePackHubProtocol.writeMessage({ type: 6 }))).toBe(toHex(clientWrites({ type: 6 })))
  })
})
