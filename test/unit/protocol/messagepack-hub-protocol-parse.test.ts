import { encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { writeFrame } from '../../../src/protocol/binary-message-format.js'
import {
  INVALID_INPUT_ERROR,
  messagePackHubProtocol,
  MSGPACK_READ_ERROR,
} from '../../../src/protocol/messagepack-hub-protocol.js'
import { MSGPACK_DEPTH_ERROR } from '../../../src/protocol/msgpack-bounds.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

const hex = (text: string): Uint8Array => Uint8Array.from(text.split(/\s+/).filter(Boolean), (b) => parseInt(b, 16))
const parse = (input: string | Uint8Array, maxMessageSize?: number) =>
  messagePackHubProtocol.parseMessages(input, maxMessageSize === undefined ? {} : { maxMessageSize })
const limitText = (n: number) =>
  `The maximum message size of ${n}B was exceeded. The message size can be configured in AddHubOptions.`

describe('MessagePackHubProtocol.parseMessages: valid frames', () => {
  // Bytes written by hand from HubProtocol.md ("MessagePack (MsgPack) encoding").
  const cases: [string, string, HubMessage][] = [
    [
      'a JS client invoke (5 elements)',
      '10 95 01 80 a1 30 a7 70 75 62 6c 69 73 68 91 a1 78',
      { type: 1, invocationId: '0', target: 'publish', arguments: ['x'] },
    ],
    ['a send with a nil invocationId', '07 95 01 80 c0 a1 74 90', { type: 1, target: 't', arguments: [] }],
    ['a send with an empty invocationId', '07 95 01 80 a0 a1 74 90', { type: 1, target: 't', arguments: [] }],
    [
      'an invocation with headers and streamIds (6 elements)',
      '0e 96 01 81 a1 61 a1 62 c0 a1 74 90 91 a1 32',
      { type: 1, target: 't', arguments: [], streamIds: ['2'], headers: { a: 'b' } },
    ],
    ['a .NET invocation with no stream ids', '08 96 01 80 c0 a1 74 90 90', { type: 1, target: 't', arguments: [] }],
    [
      'an invocation with extra trailing elements',
      '0e 97 01 80 c0 a1 74 90 90 a5 65 78 74 72 61',
      { type: 1, target: 't', arguments: [] },
    ],
    [
      'bin and timestamp arguments as Uint8Array and Date',
      '11 95 01 80 c0 a1 74 92 c4 02 01 02 d6 ff 65 53 f1 00',
      { type: 1, target: 't', arguments: [hex('01 02'), new Date(1_700_000_000_000)] },
    ],
    [
      'a stream invocation',
      '0f 95 04 80 a1 33 a7 63 6f 75 6e 74 65 72 91 0a',
      { type: 4, invocationId: '3', target: 'counter', arguments: [10] },
    ],
    ['a stream item', '07 94 02 80 a1 32 a1 61', { type: 2, invocationId: '2', item: 'a' }],
    ['a stream item of nil', '06 94 02 80 a1 32 c0', { type: 2, invocationId: '2', item: null }],
    ['a void completion (kind 2)', '06 94 03 80 a1 31 02', { type: 3, invocationId: '1' }],
    ['a void completion with a trailing element', '08 95 03 80 a1 31 02 a1 78', { type: 3, invocationId: '1' }],
    ['a completion with a result (kind 3)', '07 95 03 80 a1 31 03 2a', { type: 3, invocationId: '1', result: 42 }],
    ['a completion with a nil result', '07 95 03 80 a1 31 03 c0', { type: 3, invocationId: '1', result: null }],
    ['a completion with an error (kind 1)', '0a 95 03 80 a1 31 01 a3 62 61 64', { type: 3, invocationId: '1', error: 'bad' }],
    ['a completion with a nil error as neither', '07 95 03 80 a1 31 01 c0', { type: 3, invocationId: '1' }],
    ['a cancel', '05 93 05 80 a1 33', { type: 5, invocationId: '3' }],
    ['a cancel with headers', '09 93 05 81 a1 6b a1 76 a1 33', { type: 5, invocationId: '3', headers: { k: 'v' } }],
    ['a ping', '02 91 06', { type: 6 }],
    ['a ping with an extra element', '03 92 06 01', { type: 6 }],
    ['a JS client close (2 elements)', '03 92 07 c0', { type: 7 }],
    ['a .NET close with an error', '07 93 07 a3 62 79 65 c3', { type: 7, error: 'bye', allowReconnect: true }],
    ['a close with an empty error, still an error', '04 93 07 a0 c2', { type: 7, error: '' }],
    ['a close that allows reconnecting', '04 93 07 c0 c3', { type: 7, allowReconnect: true }],
    ['an ack', '05 92 08 cd 05 72', { type: 8, sequenceId: 1394 }],
    ['an ack as uint32', '07 92 08 ce 01 00 00 00', { type: 8, sequenceId: 16777216 }],
    ['an ack as int64', '0b 92 08 d3 00 00 00 00 00 00 00 05', { type: 8, sequenceId: 5 }],
    ['a sequence', '03 92 09 01', { type: 9, sequenceId: 1 }],
  ]

  it.each(cases)('reads %s', (_name, wire, expected) => {
    expect(parse(hex(wire))).toEqual({ messages: [expected] })
  })

  it('reads several frames in one chunk, in order', () => {
    expect(parse(hex('02 91 06 07 95 01 80 c0 a1 74 90 03 92 07 c0')).messages).toEqual([
      { type: 6 },
      { type: 1, target: 't', arguments: [] },
      { type: 7 },
    ])
  })

  it('skips a message of unknown type and reads the next one', () => {
    expect(parse(hex('04 92 63 a1 78 02 91 06'))).toEqual({ messages: [{ type: 6 }] })
  })

  it('returns nothing for an empty chunk', () => {
    expect(parse(new Uint8Array())).toEqual({ messages: [] })
  })

  it('refuses a string', () => {
    expect(parse('\u0002\u0091\u0006')).toEqual({ messages: [], error: INVALID_INPUT_ERROR })
  })
})

describe('MessagePackHubProtocol.parseMessages: a stream split across chunks', () => {
  const stream = hex('02 91 06 10 95 01 80 a1 30 a7 70 75 62 6c 69 73 68 91 a1 78 05 92 08 cd 05 72')
  const expected: HubMessage[] = [
    { type: 6 },
    { type: 1, invocationId: '0', target: 'publish', arguments: ['x'] },
    { type: 8, sequenceId: 1394 },
  ]

  it('reads the same messages whatever byte position the stream is cut at', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const first = parse(stream.subarray(0, cut))
      expect(first.error).toBeUndefined()
      const rest = first.rest instanceof Uint8Array ? first.rest : new Uint8Array()
      const joined = new Uint8Array(rest.length + stream.length - cut)
      joined.set(rest)
      joined.set(stream.subarray(cut), rest.length)
      const second = parse(joined)
      expect(second.rest).toBeUndefined()
      expect([...first.messages, ...second.messages]).toEqual(expected)
    }
  })
})

describe('MessagePackHubProtocol.parseMessages: size limit', () => {
  it('accepts a frame whose prefix and payload fill the limit exactly', () => {
    expect(parse(hex('02 91 06'), 3)).toEqual({ messages: [{ type: 6 }] })
  })

  it('refuses a frame one byte larger and keeps the messages before it', () => {
    expect(parse(hex('02 91 06 03 92 06 00'), 3)).toEqual({ messages: [{ type: 6 }], error: limitText(3) })
  })

  it('refuses a frame as soon as its prefix announces too much', () => {
    expect(parse(hex('02 91 06 80 80 02'), 32768)).toEqual({ messages: [{ type: 6 }], error: limitText(32768) })
  })
})

describe('MessagePackHubProtocol.parseMessages: errors', () => {
  // Texts of MessagePackHubProtocolWorker.cs where .NET has one.
  const cases: [string, string, string][] = [
    ['a value that is not an array', '01 06', 'Invalid message: expected a MessagePack array.'],
    ['an empty array', '01 90', "Reading 'messageType' as Int32 failed."],
    ['a string message type', '03 91 a1 78', "Reading 'messageType' as Int32 failed."],
    ['a fractional message type', '0a 91 cb 3f f8 00 00 00 00 00 00', "Reading 'messageType' as Int32 failed."],
    ['nil headers', '07 95 01 c0 c0 a1 74 90', "Reading map length for 'headers' failed."],
    ['headers as an array', '07 95 01 90 c0 a1 74 90', "Reading map length for 'headers' failed."],
    ['a header value that is a number', '08 93 05 81 a1 6b 01 a1 31', "Reading 'headers[0].Value' as String failed."],
    ['a nil header value', '08 93 05 81 a1 6b c0 a1 31', 'Null or empty value in header.'],
    ['an empty header key', '08 93 05 81 a0 a1 76 a1 31', 'Null or empty key in header.'],
    ['a numeric invocationId', '07 95 01 80 05 a1 74 90', "Reading 'invocationId' as String failed."],
    ['a numeric target', '06 95 01 80 c0 05 90', "Reading 'target' as String failed."],
    ['a nil target', '06 95 01 80 c0 c0 90', 'Null or empty target for Invocation message.'],
    ['an empty target', '06 95 01 80 c0 a0 90', 'Null or empty target for Invocation message.'],
    ['an invocation of 3 elements', '04 93 01 80 c0', "Reading 'target' as String failed."],
    ['arguments as a map', '07 95 01 80 c0 a1 74 80', "Reading array length for 'arguments' failed."],
    ['an invocation of 4 elements', '06 94 01 80 c0 a1 74', "Reading array length for 'arguments' failed."],
    ['nil streamIds', '08 96 01 80 c0 a1 74 90 c0', "Reading array length for 'streamIds' failed."],
    ['a nil stream id', '09 96 01 80 c0 a1 74 90 91 c0', 'Null or empty value in streamIds received.'],
    ['a numeric stream id', '09 96 01 80 c0 a1 74 90 91 01', "Reading 'streamIds' as String failed."],
    ['a stream invocation without id', '07 95 04 80 c0 a1 74 90', 'Null or empty invocation ID for StreamInvocation message.'],
    ['a stream invocation with an empty target', '07 95 04 80 a1 31 a0 90', 'Null or empty target for StreamInvocation message.'],
    ['a stream item without item', '05 93 02 80 a1 31', "Deserializing object of the `Object` type for 'item' failed."],
    ['a stream item without id', '05 94 02 80 c0 01', 'Null or empty invocation ID for StreamItem message.'],
    ['a completion of kind 3 without result', '06 94 03 80 a1 31 03', "Deserializing object of the `Object` type for 'result' failed."],
    ['a completion of kind 4', '06 94 03 80 a1 31 04', 'Invalid invocation result kind.'],
    ['a string result kind', '07 94 03 80 a1 31 a1 78', "Reading 'resultKind' as Int32 failed."],
    ['a numeric error', '07 95 03 80 a1 31 01 05', "Reading 'error' as String failed."],
    ['a completion of kind 1 without error', '06 94 03 80 a1 31 01', "Reading 'error' as String failed."],
    ['a completion with an empty id', '05 94 03 80 a0 02', 'Null or empty invocation ID for Completion message.'],
    ['a cancel without id', '04 93 05 80 c0', 'Null or empty invocation ID for CancelInvocation message.'],
    ['a close of 1 element', '02 91 07', "Reading 'error' as String failed."],
    ['a numeric close error', '03 92 07 01', "Reading 'error' as String failed."],
    ['a numeric allowReconnect', '04 93 07 c0 01', "Reading 'allowReconnect' as Boolean failed."],
    ['an ack without sequenceId', '02 91 08', "Reading 'sequenceId' as Int64 failed."],
    ['a string sequenceId', '04 92 08 a1 78', "Reading 'sequenceId' as Int64 failed."],
    ['a fractional sequenceId', '0b 92 09 cb 3f f8 00 00 00 00 00 00', "Reading 'sequenceId' as Int64 failed."],
    ['an empty payload', '00', MSGPACK_READ_ERROR],
    ['a cut string', '03 92 06 a5', 'Error reading MessagePack data: the str at offset 2 declares 5 bytes but 0 remain.'],
    ['a cut float', '04 92 06 cb 3f', MSGPACK_READ_ERROR],
    ['the never-used byte c1', '02 91 c1', MSGPACK_READ_ERROR],
    ['bytes after the value', '03 91 06 06', MSGPACK_READ_ERROR],
    ['a map key that is bin', '07 93 05 81 c4 00 a1 76', MSGPACK_READ_ERROR],
    ['a __proto__ map key', '0f 93 05 81 a9 5f 5f 70 72 6f 74 6f 5f 5f a1 76', MSGPACK_READ_ERROR],
    ['a prefix of 6 bytes', '80 80 80 80 80 00', 'Messages over 2GB in size are not supported.'],
  ]

  it.each(cases)('refuses %s', (_name, wire, error) => {
    expect(parse(hex(wire))).toEqual({ messages: [], error })
  })

  it('keeps the messages before a bad frame and reads nothing after it', () => {
    expect(parse(hex('02 91 06 01 90 02 91 06'))).toEqual({
      messages: [{ type: 6 }],
      error: "Reading 'messageType' as Int32 failed.",
    })
  })
})

describe('MessagePackHubProtocol.parseMessages: fuzz', () => {
  const run = (input: Uint8Array, maxMessageSize?: number) => {
    const result = parse(input, maxMessageSize)
    expect(Array.isArray(result.messages)).toBe(true)
  }

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.option(fc.integer({ min: 1, max: 64 })), (bytes, max) =>
        run(bytes, max ?? undefined),
      ),
      { seed: 20240611, numRuns: 3000 },
    )
  })

  it('never throws on well-framed arrays of any message type and element types', () => {
    const element = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 4 }),
      fc.uint8Array({ maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null), fc.integer())),
      fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.constant(null)), { maxLength: 3 }),
    )
    const message = fc.tuple(fc.integer({ min: -1, max: 11 }), fc.array(element, { maxLength: 7 }))
    fc.assert(
      fc.property(message, ([type, rest]) => run(writeFrame(encode([type, ...rest])))),
      { seed: 20240611, numRuns: 3000 },
    )
  })
})

describe('MessagePackHubProtocol.parseMessages: nesting', () => {
  const nested = (levels: number, leaf: unknown = 1): unknown => {
    let value: unknown = leaf
    for (let i = 0; i < levels; i++) value = i % 2 === 0 ? [value] : { k: value }
    return value
  }
  const invocation = (argument: unknown): Uint8Array => writeFrame(encode([1, {}, null, 't', [argument]]))

  it('takes arguments nested 60 levels deep', () => {
    const result = parse(invocation(nested(60)))
    expect(result.error).toBeUndefined()
    expect(result.messages).toHaveLength(1)
  })

  it('refuses arguments nested past 64 levels, as the JSON protocol does', () => {
    // Encoded by hand: @msgpack/msgpack will not encode past 100 levels, a client may send more.
    const depth = 5000
    const body = new Uint8Array(depth + 1)
    body.fill(0x91, 0, depth)
    body[depth] = 0x01
    const frame = writeFrame(Uint8Array.from([0x95, 0x01, 0x80, 0xc0, 0xa1, 0x74, ...body]))
    expect(parse(frame).error).toBe(MSGPACK_DEPTH_ERROR)
    expect(parse(invocation(nested(70))).error).toBe(MSGPACK_DEPTH_ERROR)
  })
})

describe('MessagePackHubProtocol.parseMessages: frame sizes', () => {
  it('reports the size of each message frame, length prefix included, only when asked', () => {
    const item = writeFrame(encode([2, {}, 's', 'x'.repeat(200)]))
    const input = new Uint8Array([...hex('02 91 06'), ...item])
    expect(messagePackHubProtocol.parseMessages(input).sizes).toBeUndefined()
    expect(messagePackHubProtocol.parseMessages(input, { measure: true }).sizes).toEqual([3, item.byteLength])
    expect(item.byteLength).toBeGreaterThan(200)
  })
})
