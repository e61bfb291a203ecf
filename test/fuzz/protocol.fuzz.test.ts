/**
 * Properties of the pure protocol layer: the hub protocol
 * parsers, the handshake parser and negotiate version parsing are total on any input, answer only
 * their documented errors, read a stream the same however it is cut, carry every valid message
 * unchanged through a write and a parse, and never accept or buffer a frame over maxMessageSize.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PAYLOAD_TOO_LARGE_ERROR } from '../../src/protocol/binary-message-format.js'
import { parseHandshakeRequest } from '../../src/protocol/handshake.js'
import type { HubProtocol, ParseOptions } from '../../src/protocol/hub-protocol.js'
import { JsonHubProtocol, maxMessageSizeError } from '../../src/protocol/json-hub-protocol.js'
import { INVALID_INPUT_ERROR, MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import type { HubMessage } from '../../src/protocol/messages.js'
import { NEGOTIATE_VERSION, parseNegotiateVersion, writeNegotiateError, writeNegotiateResponse } from '../../src/protocol/negotiate.js'
import type { NegotiateResponse } from '../../src/protocol/negotiate.js'
import { utf8ByteLength } from '../../src/protocol/text-message-format.js'
import { budget, timeoutFor } from './fuzz-budget.js'
import {
  anyJson,
  concatBytes,
  hostileBytes,
  hubMessage,
  isWellTyped,
  msgpackFrame,
  nearValidJsonMessage,
  nearValidMsgpackItems,
  RS,
} from './hub-message-arbitraries.js'
import { declaredLengthBomb, MSGPACK_BOUNDS_ERRORS, msgpackHeaderSoup } from './msgpack-bomb-arbitraries.js'

const json = new JsonHubProtocol()
const msgpack = new MessagePackHubProtocol()
const utf8 = new TextEncoder()

/** The error texts of JsonHubProtocol (json-reader.ts, json-message-binder.ts), as patterns. */
const JSON_ERRORS: readonly RegExp[] = [
  /^Error reading JSON\.$/,
  /^Unexpected JSON Token Type '(Array|String|Number|True|False|Null)'\. Expected a JSON Object\.$/,
  /^Missing required property '(type|target|arguments|invocationId|item|sequenceId)'\.$/,
  /^Expected '(type|invocationId|streamIds|target|error|arguments|headers|sequenceId)' to be of type (Number|String|Array|StartObject)\.$/,
  /^Null value for 'streamIds' is not valid\.$/,
  /^Expected 'streamIds' items to be of type String\.$/,
  /^Expected 'allowReconnect' to be true or false\.$/,
  /^Expected header '.*' to be of type String\.$/s,
  /^The 'error' and 'result' properties are mutually exclusive\.$/,
  /^The maximum message size of \d+B was exceeded\. The message size can be configured in AddHubOptions\.$/,
]

/** The error texts of MessagePackHubProtocol (msgpack-bounds.ts, messagepack-message-reader.ts, binary-message-format.ts). */
const MSGPACK_ERRORS: readonly RegExp[] = [
  literal(INVALID_INPUT_ERROR),
  ...MSGPACK_BOUNDS_ERRORS,
  literal(PAYLOAD_TOO_LARGE_ERROR),
  /^The maximum message size of \d+B was exceeded\. The message size can be configured in AddHubOptions\.$/,
  /^Invalid message: expected a MessagePack array\.$/,
  /^Reading '(messageType|invocationId|target|error|allowReconnect|resultKind|sequenceId|streamIds)' as (String|Int32|Int64|Boolean) failed\.$/,
  /^Reading (map|array) length for '(headers|arguments|streamIds)' failed\.$/,
  /^Reading 'headers\[\d+\]\.Value' as String failed\.$/,
  /^Null or empty (key|value) in header\.$/,
  /^Null or empty value in streamIds received\.$/,
  /^Null or empty (target|invocation ID) for (Invocation|StreamInvocation|StreamItem|Completion|CancelInvocation) message\.$/,
  /^Invalid invocation result kind\.$/,
  /^Deserializing object of the `Object` type for '(item|result)' failed\.$/,
]

function literal(text: string): RegExp {
  return new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
}

const documented = (patterns: readonly RegExp[]) => (error: string) => patterns.some((pattern) => pattern.test(error))

/** What a parse may give back: well-typed messages, a documented error, and `rest` of the input's type. */
function expectSound(protocol: HubProtocol, input: string | Uint8Array, options: ParseOptions, errors: readonly RegExp[]): void {
  const result = protocol.parseMessages(input, options)
  for (const message of result.messages) expect(isWellTyped(message), JSON.stringify(message)).toBe(true)
  if (result.error !== undefined) expect(documented(errors)(result.error), result.error).toBe(true)
  if (result.rest !== undefined) {
    expect(typeof result.rest).toBe(typeof input)
    expect(result.error).toBeUndefined()
  }
}

/** Cuts `input` at the given points (taken modulo its length, in order). */
function cut<T extends string | Uint8Array>(input: T, points: readonly number[]): T[] {
  const at = [...new Set(points.map((p) => p % (input.length + 1)))].sort((a, b) => a - b)
  const chunks: T[] = []
  let start = 0
  for (const end of [...at, input.length]) {
    chunks.push(input.slice(start, end) as T)
    start = end
  }
  return chunks
}

function join<T extends string | Uint8Array>(head: T, tail: T): T {
  return (typeof head === 'string' ? head + (tail as string) : concatBytes([head, tail as Uint8Array])) as T
}

/** Feeds the chunks one by one, each behind the `rest` of the one before, as a connection does. */
function feed<T extends string | Uint8Array>(protocol: HubProtocol, chunks: readonly T[], options: ParseOptions = {}): { messages: HubMessage[]; error?: string; rest?: T } {
  const messages: HubMessage[] = []
  let rest: T | undefined
  for (const chunk of chunks) {
    const result = protocol.parseMessages(rest === undefined ? chunk : join(rest, chunk), options)
    messages.push(...result.messages)
    if (result.error !== undefined) return { messages, error: result.error }
    rest = result.rest as T | undefined
  }
  return rest === undefined ? { messages } : { messages, rest }
}

/** A message as a reader gives it back: -0 reads as 0 and absent fields stay absent. */
const normalize = (messages: readonly HubMessage[]): unknown => JSON.parse(JSON.stringify(messages))

/** Each property takes well under a second at the CI budget; the on-demand budget scales this. */
const TIMEOUT = timeoutFor(10_000)

const cutPoints = fc.array(fc.nat(), { maxLength: 12 })
const maxMessageSize = fc.integer({ min: 1, max: 400 })

describe('JsonHubProtocol.parseMessages is total', () => {
  it('gives well-typed messages or a documented error for any text', () => {
    const input = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.constant(RS)), { maxLength: 10 }).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(input, fc.option(maxMessageSize, { nil: undefined }), (text, max) => {
        expectSound(json, text, max === undefined ? {} : { maxMessageSize: max }, JSON_ERRORS)
      }),
      budget(0x15a1, 300),
    )
  }, TIMEOUT)

  it('gives well-typed messages or a documented error for any bytes, separators and cut UTF-8 included', () => {
    fc.assert(
      fc.property(hostileBytes, fc.option(maxMessageSize, { nil: undefined }), (bytes, max) => {
        expectSound(json, bytes, max === undefined ? {} : { maxMessageSize: max }, JSON_ERRORS)
      }),
      budget(0x15a2, 300),
    )
  }, TIMEOUT)

  it('gives well-typed messages or a documented error for JSON objects shaped like hub messages', () => {
    const frames = fc.array(nearValidJsonMessage, { minLength: 1, maxLength: 4 }).map((objects) => objects.map((o) => JSON.stringify(o) + RS).join(''))
    fc.assert(
      fc.property(frames, fc.boolean(), (text, asBytes) => {
        expectSound(json, asBytes ? utf8.encode(text) : text, {}, JSON_ERRORS)
      }),
      budget(0x15a3, 300),
    )
  }, TIMEOUT)

  it('refuses any JSON value that is not an object with a documented error', () => {
    fc.assert(
      fc.property(anyJson, (value) => {
        const result = json.parseMessages(JSON.stringify(value) + RS)
        if (typeof value !== 'object' || value === null || Array.isArray(value)) expect(result.error).toMatch(/^Unexpected JSON Token Type/)
        expectSound(json, JSON.stringify(value) + RS, {}, JSON_ERRORS)
      }),
      budget(0x15a4, 200),
    )
  }, TIMEOUT)
})

describe('MessagePackHubProtocol.parseMessages is total', () => {
  it('gives well-typed messages or a documented error for any bytes, hostile length prefixes included', () => {
    fc.assert(
      fc.property(hostileBytes, fc.option(maxMessageSize, { nil: undefined }), (bytes, max) => {
        expectSound(msgpack, bytes, max === undefined ? {} : { maxMessageSize: max }, MSGPACK_ERRORS)
      }),
      budget(0x3e91, 300),
    )
  }, TIMEOUT)

  it('gives well-typed messages or a documented error for msgpack arrays shaped like hub messages', () => {
    const frames = fc.array(nearValidMsgpackItems, { minLength: 1, maxLength: 4 }).map((values) => concatBytes(values.map(msgpackFrame)))
    fc.assert(
      fc.property(frames, (bytes) => {
        expectSound(msgpack, bytes, {}, MSGPACK_ERRORS)
      }),
      budget(0x3e92, 300),
    )
  }, TIMEOUT)

  it('gives well-typed messages or a documented error for declared-length bombs and headers of any length', () => {
    fc.assert(
      fc.property(fc.oneof(declaredLengthBomb, msgpackHeaderSoup), fc.option(maxMessageSize, { nil: undefined }), (bytes, max) => {
        expectSound(msgpack, bytes, max === undefined ? {} : { maxMessageSize: max }, MSGPACK_ERRORS)
      }),
      budget(0x3e94, 300),
    )
  }, TIMEOUT)

  it('refuses text with the documented error', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 50 }), (text) => {
        expect(msgpack.parseMessages(text)).toEqual({ messages: [], error: INVALID_INPUT_ERROR })
      }),
      budget(0x3e93, 50),
    )
  }, TIMEOUT)
})

/** Both protocols, with the stream types each reads: JSON as text and as UTF-8 bytes. */
const streams: ReadonlyArray<{ name: string; protocol: HubProtocol; encode: (messages: readonly HubMessage[]) => string | Uint8Array; frameSize: (message: HubMessage) => number }> = [
  { name: 'JSON text', protocol: json, encode: (ms) => ms.map((m) => json.writeMessage(m)).join(''), frameSize: (m) => utf8ByteLength(json.writeMessage(m)) },
  { name: 'JSON bytes', protocol: json, encode: (ms) => utf8.encode(ms.map((m) => json.writeMessage(m)).join('')), frameSize: (m) => utf8ByteLength(json.writeMessage(m)) },
  { name: 'MessagePack', protocol: msgpack, encode: (ms) => concatBytes(ms.map((m) => msgpack.writeMessage(m).slice())), frameSize: (m) => msgpack.writeMessage(m).length },
]

describe.each(streams)('$name', ({ protocol, encode, frameSize }) => {
  const messages = fc.array(hubMessage(), { minLength: 1, maxLength: 6 })

  it('reads back every valid message it writes, unchanged', () => {
    fc.assert(
      fc.property(messages, (sent) => {
        const result = protocol.parseMessages(encode(sent))
        expect(result.error).toBeUndefined()
        expect(result.rest).toBeUndefined()
        expect(normalize(result.messages)).toEqual(normalize(sent))
      }),
      budget(0x7a11, 200),
    )
  }, TIMEOUT)

  it('reads a stream cut at arbitrary points, rest carried over, as it reads it whole', () => {
    fc.assert(
      fc.property(messages, cutPoints, (sent, points) => {
        const whole = encode(sent)
        const chunked = feed(protocol, cut(whole, points))
        expect(chunked.error).toBeUndefined()
        expect(chunked.rest).toBeUndefined()
        expect(chunked.messages).toEqual(protocol.parseMessages(whole).messages)
      }),
      budget(0x7a12, 200),
    )
  }, TIMEOUT)

  it('accepts exactly the frames up to the first one over maxMessageSize, then gives the size error', () => {
    fc.assert(
      fc.property(messages, maxMessageSize, cutPoints, (sent, max, points) => {
        const firstTooLarge = sent.findIndex((m) => frameSize(m) > max)
        const accepted = firstTooLarge === -1 ? sent : sent.slice(0, firstTooLarge)
        for (const result of [protocol.parseMessages(encode(sent), { maxMessageSize: max }), feed(protocol, cut(encode(sent), points), { maxMessageSize: max })]) {
          expect(normalize(result.messages)).toEqual(normalize(accepted))
          expect(result.error).toBe(firstTooLarge === -1 ? undefined : maxMessageSizeError(max))
        }
      }),
      budget(0x7a13, 200),
    )
  }, TIMEOUT)
})

describe('buffering stays under maxMessageSize', () => {
  const inputs = fc.oneof(hostileBytes, fc.array(hubMessage(), { maxLength: 4 }).map((ms) => concatBytes(ms.map((m) => msgpack.writeMessage(m).slice()))))

  it.each([
    ['JSON', json],
    ['MessagePack', msgpack],
  ] as const)('%s never keeps a rest of maxMessageSize bytes or more, however the stream is cut', (_, protocol) => {
    fc.assert(
      fc.property(inputs, maxMessageSize, cutPoints, (bytes, max, points) => {
        let rest: Uint8Array | undefined
        for (const chunk of cut(bytes, points)) {
          const result = protocol.parseMessages(rest === undefined ? chunk : concatBytes([rest, chunk]), { maxMessageSize: max })
          if (result.error !== undefined) return
          rest = result.rest as Uint8Array | undefined
          if (rest !== undefined) expect(rest.length).toBeLessThan(max)
        }
      }),
      budget(0xb0f1, 300),
    )
  }, TIMEOUT)
})

describe('parseHandshakeRequest is total', () => {
  const protocolName = fc.oneof(fc.constantFrom('json', 'messagepack', 'JSON', '', 'json\u0000'), anyJson)
  const version = fc.oneof(
    fc.integer({ min: -3, max: 3 }),
    fc.constantFrom(1e300, -1e300, 2 ** 53, 2 ** 31, 1.5, -0, '1', null, true, [1], { v: 1 }),
    fc.double(),
    anyJson,
  )
  const nearValid = fc
    .tuple(
      fc.record({ protocol: protocolName, version, extra: anyJson }, { requiredKeys: [] }),
      fc.constantFrom(RS, '', RS + RS),
      fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 20 }), fc.constant('{"type":6}' + RS)),
    )
    .map(([request, separator, after]) => JSON.stringify(request) + separator + after)
  const input = fc.oneof(
    nearValid,
    nearValid.map((text) => utf8.encode(text)),
    fc.string({ unit: 'binary', maxLength: 100 }),
    hostileBytes,
  )

  it('answers only incomplete, request or error, each with its documented fields', () => {
    fc.assert(
      fc.property(input, fc.option(fc.integer({ min: 1, max: 200 }), { nil: undefined }), (raw, maxSize) => {
        const result = parseHandshakeRequest(raw, maxSize)
        switch (result.kind) {
          case 'incomplete':
            expect(Object.keys(result)).toEqual(['kind'])
            break
          case 'request':
            expect(typeof result.protocol).toBe('string')
            expect(Number.isInteger(result.version)).toBe(true)
            if (result.rest !== undefined) {
              expect(typeof result.rest).toBe(typeof raw)
              expect(result.rest.length).toBeGreaterThan(0)
            }
            break
          case 'error':
            expect(['malformed', 'too-large']).toContain(result.reason)
            expect(typeof result.detail).toBe('string')
            if (maxSize === undefined) expect(result.reason).toBe('malformed')
            break
          default:
            expect.unreachable(`unknown kind in ${JSON.stringify(result)}`)
        }
      }),
      budget(0x4a5d, 400),
    )
  }, TIMEOUT)

  it('reads a well-formed request and hands back what follows it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 20 }), fc.integer(), fc.string({ unit: 'binary', maxLength: 20 }), (protocol, v, after) => {
        const result = parseHandshakeRequest(JSON.stringify({ protocol, version: v }) + RS + after)
        expect(result).toEqual({ kind: 'request', protocol, version: v, ...(after === '' ? {} : { rest: after }) })
      }),
      budget(0x4a5e, 200),
    )
  }, TIMEOUT)
})

describe('negotiate version parsing is total', () => {
  const nonInteger = 'The client requested a non-integer protocol version.'
  const raw = fc.oneof(
    fc.constant(null),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.integer().map(String),
    fc.tuple(fc.constantFrom('', ' ', '\t', '+', '-', ' +', '\n-'), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }), fc.constantFrom('', ' ', '\r\n', 'x', '.0')).map(([a, n, b]) => `${a}${n}${b}`),
  )

  it('answers version 0 or 1, or one of its two documented errors', () => {
    fc.assert(
      fc.property(raw, fc.integer({ min: 0, max: 2 }), (value, minimum) => {
        const result = parseNegotiateVersion(value, minimum)
        if ('version' in result) {
          expect([0, 1]).toContain(result.version)
        } else {
          expect(result.error).toMatch(/^(The client requested a non-integer protocol version\.|The client requested version '-?\d+', but the server does not support this version\.)$/)
        }
      }),
      budget(0x9e60, 300),
    )
  }, TIMEOUT)

  it('reads every Int32 as Int32.TryParse does: lowered to the highest version, refused below the minimum', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom('', ' ', '\t'), fc.integer({ min: 0, max: 2 }), (n, pad, minimum) => {
        const result = parseNegotiateVersion(`${pad}${n}${pad}`, minimum)
        if (n < minimum) expect(result).toEqual({ error: `The client requested version '${n}', but the server does not support this version.` })
        else expect(result).toEqual({ version: Math.min(n, NEGOTIATE_VERSION) })
      }),
      budget(0x9e61, 200),
    )
    expect(parseNegotiateVersion('2147483648')).toEqual({ error: nonInteger })
  }, TIMEOUT)

  it('writes a negotiate response and error that parse as the JSON they describe, whatever the ids', () => {
    const anyText = fc.string({ unit: 'binary', maxLength: 30 })
    fc.assert(
      fc.property(anyText, anyText, fc.constantFrom(0, 1) as fc.Arbitrary<0 | 1>, fc.boolean(), (connectionId, connectionToken, negotiateVersion, stateful) => {
        const response: NegotiateResponse = {
          negotiateVersion,
          connectionId,
          connectionToken,
          availableTransports: [{ transport: 'WebSockets', transferFormats: ['Text', 'Binary'] }],
          ...(stateful ? { useStatefulReconnect: true } : {}),
        }
        const body = JSON.parse(writeNegotiateResponse(response)) as Record<string, unknown>
        expect(body).toEqual({
          ...response,
          connectionToken: negotiateVersion > 0 && connectionToken !== '' ? connectionToken : undefined,
        })
        expect(JSON.parse(writeNegotiateError(connectionId))).toEqual({ error: connectionId })
      }),
      budget(0x9e62, 200),
    )
  }, TIMEOUT)
})
