/**
 * Properties of the readers of what services publish (src/hub/service-message.ts): for any JSON a
 * service may send, each reader returns a well-typed value or throws ImError IM_INVALID_PAYLOAD,
 * never another error, never pollutes Object.prototype, and reads property names ignoring case, as
 * a .NET publisher's `{"Method": ..., "Data": ...}` needs.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ImError, ImErrorCode } from '../../src/errors.js'
import { readGroupMembership, readSendMessage, readTargets } from '../../src/hub/service-message.js'
import { budget, timeoutFor } from './fuzz-budget.js'
import { anyJson, contractPayload, recased } from './service-payload-arbitraries.js'

const TIMEOUT = timeoutFor(10_000)
const MAX_NAME = 256

type Outcome = { readonly value: unknown } | { readonly invalid: string }

/** Runs a reader: its value, or the message of the IM_INVALID_PAYLOAD it threw; anything else fails. */
function run(read: () => unknown): Outcome {
  try {
    return { value: read() }
  } catch (error) {
    expect(error).toBeInstanceOf(ImError)
    expect((error as ImError).code).toBe(ImErrorCode.InvalidPayload)
    return { invalid: (error as ImError).message }
  }
}

const isName = (value: unknown): boolean => typeof value === 'string' && value.length > 0 && value.length <= MAX_NAME
const isNames = (value: unknown): boolean => Array.isArray(value) && value.every(isName)
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A SendMessage: the three fields of the contract, plus delivery shaping when a publisher asks for it. */
function isSendMessage(value: unknown): boolean {
  if (!isObject(value)) return false
  const { method, args, excludeConnectionIds, ...rest } = value
  const extra = Object.keys(rest)
  return isName(method) && Array.isArray(args) && isNames(excludeConnectionIds) && extra.every((key) => key === 'delivery' && isObject(rest.delivery))
}

function isGroupMembership(value: unknown): boolean {
  if (!isObject(value)) return false
  const keys = Object.keys(value).sort()
  return isName(value.group) && ((keys.join() === 'connectionId,group' && isName(value.connectionId)) || (keys.join() === 'group,userId' && isName(value.userId)))
}

const READERS: ReadonlyArray<readonly [string, (payload: unknown) => unknown, (value: unknown) => boolean]> = [
  ['readSendMessage', readSendMessage, isSendMessage],
  ['readTargets (connections)', (p) => readTargets(p, 'connectionId', 'connectionIds'), (v) => isNames(v) && (v as unknown[]).length > 0],
  ['readTargets (users)', (p) => readTargets(p, 'userId', 'userIds'), (v) => isNames(v) && (v as unknown[]).length > 0],
  ['readTargets (groups)', (p) => readTargets(p, 'group', 'groups'), (v) => isNames(v) && (v as unknown[]).length > 0],
  ['readGroupMembership', readGroupMembership, isGroupMembership],
]

/** Any JSON value, the contract's fields under any case, and JSON text with `__proto__` keys. */
const anyPayload: fc.Arbitrary<unknown> = fc.oneof(
  anyJson,
  contractPayload,
  contractPayload.chain(recased),
  fc
    .tuple(contractPayload, anyJson)
    .map(([payload, value]) => JSON.parse(`{"__proto__":${JSON.stringify(value)},"constructor":{"prototype":{"polluted":1}},${JSON.stringify(payload).slice(1)}`.replace(/,}$/, '}'))),
)

describe.each(READERS)('%s', (_, read, wellTyped) => {
  it(
    'returns a well-typed value or throws IM_INVALID_PAYLOAD, and nothing else, for any JSON',
    () => {
      fc.assert(
        fc.property(anyPayload, (payload) => {
          const outcome = run(() => read(payload))
          if ('value' in outcome) expect(wellTyped(outcome.value), JSON.stringify(outcome.value)).toBe(true)
          else expect(outcome.invalid.length).toBeGreaterThan(0)
          expect(Object.prototype).not.toHaveProperty('polluted')
        }),
        budget(0x5e1d, 400),
      )
    },
    TIMEOUT,
  )

  it(
    'reads property names ignoring case',
    () => {
      fc.assert(
        fc.property(contractPayload.chain((payload) => fc.tuple(fc.constant(payload), recased(payload))), ([payload, variant]) => {
          expect(run(() => read(variant))).toEqual(run(() => read(payload)))
        }),
        budget(0x5e1e, 300),
      )
    },
    TIMEOUT,
  )
})
