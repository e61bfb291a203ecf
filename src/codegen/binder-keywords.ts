/**
 * The Ajv instance the run-time binder compiles with, and the keywords that revive values by
 * their declared type while they are checked (Ajv's `modifying` keywords write through the
 * parent object, so a value is replaced where it sits):
 * - `imDate`: a `Date` arrives from MessagePack as a timestamp (already a Date) and from JSON as
 *   an ISO 8601 string, which becomes a Date; any other string is refused.
 * - `imBytes`: a `Uint8Array` arrives from MessagePack as bin and from JSON as base64, which
 *   becomes a Uint8Array.
 * - `imKeys`: property names match ignoring case (ASP.NET's JSON hub protocol binds with
 *   PropertyNameCaseInsensitive, so `{"Method": ...}` from a .NET publisher fills `method`), and
 *   `null` in an optional property that does not admit null is read as absent (a .NET
 *   serializer writes unset properties as null).
 */
import { Ajv } from 'ajv'
import type { DataValidationCxt } from 'ajv/dist/types/index.js'

/** A calendar date, optionally with a time and a zone (what .NET writes for DateTime and DateTimeOffset). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

interface KeysSchema {
  readonly names: readonly string[]
  readonly nullIsAbsent: readonly string[]
}

type Revive = ((schema: unknown, data: unknown, parentSchema?: unknown, cxt?: DataValidationCxt) => boolean) & {
  errors?: { keyword: string; message: string }[]
}

function replace(cxt: DataValidationCxt | undefined, value: unknown): void {
  if (cxt?.parentData !== undefined) (cxt.parentData as Record<string | number, unknown>)[cxt.parentDataProperty] = value
}

function refuse(fn: Revive, keyword: string, message: string): false {
  fn.errors = [{ keyword, message }]
  return false
}

const reviveDate: Revive = (_schema, data, _parent, cxt) => {
  if (data instanceof Date) return Number.isNaN(data.getTime()) ? refuse(reviveDate, 'imDate', 'must be a valid date') : true
  if (typeof data === 'string' && ISO_8601.test(data)) {
    const date = new Date(data)
    if (!Number.isNaN(date.getTime())) {
      replace(cxt, date)
      return true
    }
  }
  return refuse(reviveDate, 'imDate', 'must be an ISO 8601 date-time string')
}

const reviveBytes: Revive = (_schema, data, _parent, cxt) => {
  if (data instanceof Uint8Array) return true
  if (typeof data === 'string' && data.length % 4 === 0 && BASE64.test(data)) {
    const buffer = Buffer.from(data, 'base64')
    replace(cxt, new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength))
    return true
  }
  return refuse(reviveBytes, 'imBytes', 'must be base64 (JSON) or bin (MessagePack)')
}

const matchKeys: Revive = (schema, data) => {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return true
  const { names, nullIsAbsent } = schema as KeysSchema
  const object = data as Record<string, unknown>
  // Built once per object, and only when a declared name is missing: the usual payload costs nothing.
  let byLowerCase: Map<string, string> | undefined
  for (const name of names) {
    if (Object.hasOwn(object, name)) continue
    byLowerCase ??= new Map(Object.keys(object).filter((k) => !names.includes(k)).map((k) => [k.toLowerCase(), k]))
    const found = byLowerCase.get(name.toLowerCase())
    if (found === undefined) continue
    object[name] = object[found]
    delete object[found]
    byLowerCase.delete(name.toLowerCase())
  }
  for (const name of nullIsAbsent) if (object[name] === null) delete object[name]
  return true
}

export function createBinderAjv(): Ajv {
  // strict: false for the draft-07 tuple form (items as an array) the schemas use.
  const ajv = new Ajv({ strict: false, allErrors: false })
  ajv.addKeyword({ keyword: 'imDate', modifying: true, errors: true, validate: reviveDate })
  ajv.addKeyword({ keyword: 'imBytes', modifying: true, errors: true, validate: reviveBytes })
  // First of the object keywords, so that `required` and `properties` see the renamed keys.
  ajv.addKeyword({ keyword: 'imKeys', type: 'object', modifying: true, errors: false, validate: matchKeys, before: 'maxProperties' })
  return ajv
}
