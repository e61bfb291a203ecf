/**
 * fast-check models of what services publish to IMService (docs/service-api.md): objects with
 * the contract's properties, each well-typed most of the time, and the same objects with their
 * property names in any case.
 */
import fc from 'fast-check'

const MAX_NAME = 256

/** The property names of the contract (docs/service-api.md), as documented. */
export const FIELDS = ['method', 'args', 'data', 'excludeConnectionIds', 'connectionId', 'connectionIds', 'userId', 'userIds', 'group', 'groups', 'spreadMs', 'collapseKey', 'collapseWindowMs', 'durable'] as const

export const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: 'binary' })
const name = fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('', 'x'.repeat(MAX_NAME), 'x'.repeat(MAX_NAME + 1)))

/** A value of the type the field wants, most of the time. */
function fieldValue(field: (typeof FIELDS)[number]): fc.Arbitrary<unknown> {
  const right: Record<(typeof FIELDS)[number], fc.Arbitrary<unknown>> = {
    method: name,
    args: fc.array(anyJson, { maxLength: 3 }),
    data: anyJson,
    excludeConnectionIds: fc.array(name, { maxLength: 2 }),
    connectionId: name,
    connectionIds: fc.array(name, { maxLength: 2 }),
    userId: name,
    userIds: fc.array(name, { maxLength: 2 }),
    group: name,
    groups: fc.array(name, { maxLength: 2 }),
    spreadMs: fc.integer({ min: -1, max: 70_000 }),
    collapseKey: name,
    collapseWindowMs: fc.integer({ min: 0, max: 70_000 }),
    durable: fc.boolean(),
  }
  return fc.oneof({ weight: 4, arbitrary: right[field] }, { weight: 1, arbitrary: fc.oneof(anyJson, fc.constant(null)) })
}

/** An object with some of the contract's fields, each under its documented name. */
export const contractPayload: fc.Arbitrary<Record<string, unknown>> = fc.record(
  Object.fromEntries(FIELDS.map((field) => [field, fieldValue(field)])) as Record<(typeof FIELDS)[number], fc.Arbitrary<unknown>>,
  { requiredKeys: [] },
)

/** The same object with every property name in a random case, as a .NET or Go publisher may write it. */
export function recased(payload: Record<string, unknown>): fc.Arbitrary<Record<string, unknown>> {
  const entries = Object.entries(payload)
  if (entries.length === 0) return fc.constant({})
  return fc
    .tuple(...entries.map(([key]) => fc.mixedCase(fc.constant(key))))
    .map((keys) => Object.fromEntries(keys.map((key, i) => [key, entries[i]![1]])))
}

