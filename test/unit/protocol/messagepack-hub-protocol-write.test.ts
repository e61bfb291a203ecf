import { describe, expect, it } from 'vitest'
import { MessagePackHubProtocol, messagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'
import { TransferFormat } from '../../../src/protocol/messages.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')
const write = (message: HubMessage): Uint8Array => messagePackHubProtocol.writeMessage(message)

describe('MessagePackHubProtocol identity', () => {
  it('is the messagepack protocol, version 2, over Binary', () => {
    expect(new MessagePackHubProtocol()).toMatchObject({
      name: 'messagepack',
      version: 2,
      transferFormat: TransferFormat.Binary,
    })
  })
})

describe('MessagePackHubProtocol.writeMessage', () => {
  // Bytes written by hand from HubProtocol.md and the .NET writer (MessagePackHubProtocolWorker.cs):
  // invocations always have 6 elements, headers are always a map, Close always has 3 elements.
  const cases: [string, HubMessage, string][] = [
    [
      'an invocation with id',
      { type: 1, invocationId: '7', target: 'echo', arguments: ['a', 1, null] },
      '10 96 01 80 a1 37 a4 65 63 68 6f 93 a1 61 01 c0 90',
    ],
    [
      'a broadcast with headers and streamIds',
      { type: 1, target: 't', arguments: [], streamIds: ['2'], headers: { a: 'b' } },
      '0e 96 01 81 a1 61 a1 62 c0 a1 74 90 91 a1 32',
    ],
    ['an empty invocation id as nil', { type: 1, invocationId: '', target: 't', arguments: [] }, '08 96 01 80 c0 a1 74 90 90'],
    ['undefined arguments as nil', { type: 1, target: 't', arguments: [undefined] }, '09 96 01 80 c0 a1 74 91 c0 90'],
    [
      'a stream invocation',
      { type: 4, invocationId: '1', target: 's', arguments: [3] },
      '0a 96 04 80 a1 31 a1 73 91 03 90',
    ],
    ['a stream item', { type: 2, invocationId: '1', item: { n: 1 } }, '09 94 02 80 a1 31 81 a1 6e 01'],
    ['a stream item of undefined as nil', { type: 2, invocationId: '1', item: undefined }, '06 94 02 80 a1 31 c0'],
    ['a Uint8Array item as bin', { type: 2, invocationId: '1', item: Uint8Array.of(1, 2, 3) }, '0a 94 02 80 a1 31 c4 03 01 02 03'],
    [
      'a Date item as timestamp extension -1',
      { type: 2, invocationId: '1', item: new Date(1_700_000_000_000) },
      '0b 94 02 80 a1 31 d6 ff 65 53 f1 00',
    ],
    ['an object without its undefined properties', { type: 2, invocationId: '1', item: { a: 1, b: undefined } }, '09 94 02 80 a1 31 81 a1 61 01'],
    ['a completion with a result (kind 3)', { type: 3, invocationId: '1', result: 'ok' }, '09 95 03 80 a1 31 03 a2 6f 6b'],
    ['a completion with a null result (kind 3)', { type: 3, invocationId: '1', result: null }, '07 95 03 80 a1 31 03 c0'],
    ['a completion with neither (kind 2)', { type: 3, invocationId: '1' }, '06 94 03 80 a1 31 02'],
    ['a completion with an undefined result (kind 2)', { type: 3, invocationId: '1', result: undefined }, '06 94 03 80 a1 31 02'],
    ['a completion with an error (kind 1)', { type: 3, invocationId: '1', error: 'bad' }, '0a 95 03 80 a1 31 01 a3 62 61 64'],
    ['a cancel', { type: 5, invocationId: '1' }, '05 93 05 80 a1 31'],
    ['a cancel with empty headers', { type: 5, invocationId: '1', headers: {} }, '05 93 05 80 a1 31'],
    ['a ping', { type: 6 }, '02 91 06'],
    ['a close', { type: 7 }, '04 93 07 c0 c2'],
    ['a close with an empty error as nil', { type: 7, error: '' }, '04 93 07 c0 c2'],
    ['a close with an error that allows reconnecting', { type: 7, error: 'bye', allowReconnect: true }, '07 93 07 a3 62 79 65 c3'],
    ['an ack', { type: 8, sequenceId: 1394 }, '05 92 08 cd 05 72'],
    ['a sequence', { type: 9, sequenceId: 1 }, '03 92 09 01'],
  ]

  it.each(cases)('writes %s', (_name, message, expected) => {
    expect(toHex(write(message))).toBe(expected)
  })

  it('writes a two-byte prefix for a payload of 128 bytes or more', () => {
    const frame = write({ type: 2, invocationId: '1', item: 'x'.repeat(200) })
    // 5 bytes of array, type, headers and id, then str 8: d9 c8 and 200 bytes = 207 = cf 01.
    expect(toHex(frame.subarray(0, 9))).toBe('cf 01 94 02 80 a1 31 d9 c8')
    expect(frame.length).toBe(209)
  })

  it('returns a fresh array per message, so a reused encoder never changes written bytes', () => {
    const first = write({ type: 2, invocationId: '1', item: 'a' })
    const copy = toHex(first)
    write({ type: 2, invocationId: '2', item: 'b'.repeat(5000) })
    expect(toHex(first)).toBe(copy)
  })

  it('throws for a value msgpack cannot encode', () => {
    expect(() => write({ type: 2, invocationId: '1', item: 10n })).toThrow()
    expect(() => write({ type: 2, invocationId: '1', item: Symbol('s') })).toThrow()
  })

  it('refuses an invalid Date instead of writing 1970-01-01, and the encoder goes on', () => {
    expect(() => write({ type: 3, invocationId: '1', result: { at: new Date(Number.NaN) } })).toThrow(new TypeError('An invalid Date has no ISO 8601 form and cannot be sent.'))
    const message: HubMessage = { type: 3, invocationId: '2', result: { at: new Date(Date.UTC(2024, 0, 2)), data: Uint8Array.of(1) } }
    expect(messagePackHubProtocol.parseMessages(write(message))).toEqual({ messages: [message] })
  })

  it('reads back what it writes', () => {
    for (const [, message] of cases) {
      const { messages, error } = messagePackHubProtocol.parseMessages(write(message))
      expect(error).toBeUndefined()
      expect(messages).toHaveLength(1)
    }
    const message: HubMessage = { type: 1, invocationId: '9', target: 't', arguments: [{ d: new Date(5) }], streamIds: ['3'] }
    expect(messagePackHubProtocol.parseMessages(write(message))).toEqual({ messages: [message] })
  })
})
