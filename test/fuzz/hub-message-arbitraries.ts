/**
 * fast-check models of the SignalR hub messages (HubProtocol.md), shared by the parser properties
 * and the server fuzz: valid messages that both protocols must carry unchanged, near-valid ones
 * (every known field present or not, of the right type or of any other), and a guard that checks a
 * parsed message has the field types its type promises.
 */
import { decode, encode } from '@msgpack/msgpack'
import fc from 'fast-check'
import { writeFrame as writeBinaryFrame } from '../../src/protocol/binary-message-format.js'
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import { MessageType } from '../../src/protocol/messages.js'
import type { HubMessage } from '../../src/protocol/messages.js'

export const RS = '\u001e'

/** Well-formed text (no lone surrogates): UTF-8 on the wire gives back the same string. */
const text = fc.string({ unit: 'grapheme', maxLength: 10 })
const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 })

/**
 * Argument values both protocols carry unchanged. `__proto__` keys are left out: @msgpack/msgpack
 * refuses them on decode (a deliberate guard against prototype pollution).
 */
export const argumentValue = fc
  .jsonValue({ maxDepth: 3, stringUnit: 'grapheme' })
  .filter((value) => !JSON.stringify(value).includes('"__proto__"'))

const headers = fc.dictionary(name.filter((key) => key !== '__proto__'), name, { minKeys: 1, maxKeys: 3 })
const streamIds = fc.array(name, { minLength: 1, maxLength: 3 })
const sequenceId = fc.maxSafeInteger()

/**
 * Every message type with every optional field present or absent, restricted to the values that
 * survive a write and a parse in both protocols: ids and targets are non-empty (an empty invocation
 * id means "none" on the wire), `headers` and `streamIds` are absent rather than empty, and
 * `allowReconnect` is true or absent (false is written as absent).
 */
export function hubMessage(target: fc.Arbitrary<string> = name): fc.Arbitrary<HubMessage> {
  const invocation = fc.record(
    {
      type: fc.constant(MessageType.Invocation),
      invocationId: name,
      target,
      arguments: fc.array(argumentValue, { maxLength: 4 }),
      streamIds,
      headers,
    },
    { requiredKeys: ['type', 'target', 'arguments'] },
  )
  const streamInvocation = fc.record(
    {
      type: fc.constant(MessageType.StreamInvocation),
      invocationId: name,
      target,
      arguments: fc.array(argumentValue, { maxLength: 4 }),
      streamIds,
      headers,
    },
    { requiredKeys: ['type', 'invocationId', 'target', 'arguments'] },
  )
  const streamItem = fc.record(
    { type: fc.constant(MessageType.StreamItem), invocationId: name, item: argumentValue, headers },
    { requiredKeys: ['type', 'invocationId', 'item'] },
  )
  const completion = fc
    .tuple(
      fc.record(
        { type: fc.constant(MessageType.Completion), invocationId: name, headers },
        { requiredKeys: ['type', 'invocationId'] },
      ),
      fc.oneof(fc.record({ error: name }), fc.record({ result: argumentValue }), fc.constant({})),
    )
    .map(([head, outcome]) => ({ ...head, ...outcome }))
  const cancel = fc.record(
    { type: fc.constant(MessageType.CancelInvocation), invocationId: name, headers },
    { requiredKeys: ['type', 'invocationId'] },
  )
  const close = fc.record(
    { type: fc.constant(MessageType.Close), error: name, allowReconnect: fc.constant(true as const) },
    { requiredKeys: ['type'] },
  )
  return fc.oneof(
    invocation,
    streamInvocation,
    streamItem,
    completion,
    cancel,
    fc.constant({ type: MessageType.Ping }),
    close,
    fc.record({ type: fc.constant(MessageType.Ack), sequenceId }),
    fc.record({ type: fc.constant(MessageType.Sequence), sequenceId }),
  ) as fc.Arbitrary<HubMessage>
}

/** Any JSON value, unicode and lone surrogates included. */
export const anyJson = fc.jsonValue({ maxDepth: 2, stringUnit: 'binary' })

/** The right type for the field, mostly, or any other JSON value. */
const either = <T>(right: fc.Arbitrary<T>): fc.Arbitrary<unknown> => fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: anyJson })

const FIELDS = ['type', 'invocationId', 'target', 'arguments', 'streamIds', 'headers', 'item', 'result', 'error', 'allowReconnect', 'sequenceId'] as const

/** Targets the DefaultHub has, in several cases, and some it does not. */
export const target = fc.constantFrom('publish', 'Publish', 'watch', 'publishStream', 'noSuchMethod', 'x')

/**
 * A JSON object shaped like a hub message: a valid message with up to two fields dropped or
 * replaced by any JSON value, or an object whose known fields are each absent, well-typed or not.
 */
export const nearValidJsonMessage: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(hubMessage(target), fc.array(fc.tuple(fc.constantFrom(...FIELDS, 'extra'), fc.option(anyJson, { nil: undefined })), { maxLength: 2 }))
      .map(([message, mutations]) => {
        const object: Record<string, unknown> = { ...message }
        for (const [field, value] of mutations) {
          if (value === undefined) delete object[field]
          else object[field] = value
        }
        return object
      }),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        type: either(fc.integer({ min: 0, max: 10 })),
        invocationId: either(fc.string()),
        target: either(target),
        arguments: either(fc.array(anyJson, { maxLength: 3 })),
        streamIds: either(fc.array(either(fc.string()), { maxLength: 2 })),
        headers: either(fc.dictionary(fc.string(), either(fc.string()), { maxKeys: 2 })),
        item: anyJson,
        result: anyJson,
        error: either(fc.string()),
        allowReconnect: either(fc.boolean()),
        sequenceId: either(fc.integer()),
      },
      { requiredKeys: [] },
    ),
  },
)

/** Values msgpack carries that JSON does not: bin, timestamps, big integers, floats. */
const msgpackOnly = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.date({ noInvalidDate: true }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
  fc.double(),
)
const anyMsgpack = fc.oneof(anyJson, msgpackOnly)

const messagePack = new MessagePackHubProtocol()

/** The msgpack array the server writes for `message`, as a value. */
function msgpackItems(message: HubMessage): unknown[] {
  const frame = messagePack.writeMessage(message)
  let prefix = 0
  while ((frame[prefix]! & 0x80) !== 0) prefix++
  return decode(frame.subarray(prefix + 1)) as unknown[]
}

/**
 * A msgpack value shaped like a hub message: the array of a valid message with up to two elements
 * replaced by any value, possibly cut short or made longer; or any value at all.
 */
export const nearValidMsgpackItems: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .tuple(
        hubMessage(target),
        fc.array(fc.tuple(fc.nat(6), fc.oneof(anyMsgpack, fc.constant(null), fc.string(), fc.integer({ min: 0, max: 10 }))), { maxLength: 2 }),
        fc.option(fc.nat(7), { nil: undefined }),
      )
      .map(([message, replacements, length]) => {
        const items = msgpackItems(message)
        for (const [index, value] of replacements) items[index] = value
        // Holes left by a replacement past the end become nil, as msgpack has no holes.
        const filled = Array.from(items, (item) => item ?? null)
        return length === undefined ? filled : filled.slice(0, length)
      }),
  },
  { weight: 1, arbitrary: anyMsgpack },
)

/** One msgpack value in a hub protocol frame (VarInt length prefix). */
export function msgpackFrame(value: unknown): Uint8Array {
  return writeBinaryFrame(encode(value, { ignoreUndefined: true, useBigInt64: true }))
}

/** Bytes with the separators, length prefixes and UTF-8 fragments that framing code trips on. */
export const hostileBytes: fc.Arbitrary<Uint8Array> = fc
  .array(
    fc.oneof(
      fc.uint8Array({ maxLength: 16 }),
      fc.constant(Uint8Array.of(0x1e)),
      // A cut multi-byte character, an overlong form, a surrogate half, a whole emoji.
      fc.constantFrom(Uint8Array.of(0xe2, 0x82), Uint8Array.of(0xc0, 0x80), Uint8Array.of(0xed, 0xa0, 0x80), Uint8Array.of(0xf0, 0x9f, 0x98, 0x80)),
      // VarInt prefixes: 2^31 - 1, too long, over 2 GB, a bare continuation byte.
      fc.constantFrom(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x07), Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f), Uint8Array.of(0x80)),
      fc.constantFrom(...['{', '}', '[', ']', '"', '\\', '{"type":1', '"arguments":[', '1e400', '-0'].map((s) => new TextEncoder().encode(s))),
    ),
    { maxLength: 12 },
  )
  .map(concatBytes)

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

const isString = (value: unknown): value is string => typeof value === 'string'
const isNonEmptyString = (value: unknown): boolean => isString(value) && value.length > 0

function isHeaders(value: unknown): boolean {
  if (value === undefined) return true
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every(isString)
}

function isStreamIds(value: unknown): boolean {
  return value === undefined || (Array.isArray(value) && value.every(isString))
}

/** True when `message` has the fields, and field types, that its `type` promises (messages.ts). */
export function isWellTyped(message: HubMessage): boolean {
  const m = message as unknown as Record<string, unknown>
  switch (message.type) {
    case MessageType.Invocation:
      return (m.invocationId === undefined || isNonEmptyString(m.invocationId)) && isNonEmptyString(m.target) && Array.isArray(m.arguments) && isStreamIds(m.streamIds) && isHeaders(m.headers)
    case MessageType.StreamInvocation:
      return isNonEmptyString(m.invocationId) && isNonEmptyString(m.target) && Array.isArray(m.arguments) && isStreamIds(m.streamIds) && isHeaders(m.headers)
    case MessageType.StreamItem:
      return isNonEmptyString(m.invocationId) && 'item' in m && isHeaders(m.headers)
    case MessageType.Completion:
      return isNonEmptyString(m.invocationId) && (m.error === undefined || (isString(m.error) && !('result' in m))) && isHeaders(m.headers)
    case MessageType.CancelInvocation:
      return isNonEmptyString(m.invocationId) && isHeaders(m.headers)
    case MessageType.Ping:
      return true
    case MessageType.Close:
      return (m.error === undefined || isString(m.error)) && (m.allowReconnect === undefined || m.allowReconnect === true)
    case MessageType.Ack:
    case MessageType.Sequence:
      return Number.isInteger(m.sequenceId)
    default:
      return false
  }
}
