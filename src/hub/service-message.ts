/**
 * Reads what services publish for delivery (the DefaultHub wire contract in docs/service-api.md):
 * property names match case-insensitively, so a .NET publisher's `{"Method":..,"Data":..}` works
 * as is, and `data` stands for a one-argument `args`. Each reader throws ImError
 * `IM_INVALID_PAYLOAD` with the exact problem; the caller drops the message.
 */
import { ImError, ImErrorCode } from '../errors.js'
import { shapingProblem } from '../lifetime/delivery-shaping.js'
import type { DeliveryShaping } from '../lifetime/delivery-shaping.js'

export interface SendMessage {
  readonly method: string
  readonly args: readonly unknown[]
  readonly excludeConnectionIds: readonly string[]
  /**
   * `spreadMs`, `collapseKey`, `collapseWindowMs` when any is given, or the `durableSequence` of a
   * durable message read with its context: for `withDelivery`.
   */
  readonly delivery?: DeliveryShaping
  /** `"durable": true`: a user message kept for users who are offline (offline delivery); absent otherwise. */
  readonly durable?: true
}

export interface GroupMembershipMessage {
  readonly group: string
  readonly connectionId?: string
  readonly userId?: string
}

type Fields = ReadonlyMap<string, unknown>

const MAX_NAME = 256
const MAX_ARGS_DEPTH = 64

/**
 * The client method a service may name. SignalR clients register any string with
 * `connection.on(name)` and match it ignoring case, but what they register in practice are
 * identifiers, sometimes namespaced (`ReceiveMessage`, `orders.updated`, `chat:message`,
 * `orders/created`). Refusing everything else keeps control characters, CR/LF, markup and
 * spaces out of the frames every client parses and the logs every operator reads.
 */
const METHOD_NAME = /^[\p{L}_$][\p{L}\p{N}_$.:/-]*$/u

/** Why `method` is not a client method name a service may call, or undefined when it is. */
export function methodNameProblem(method: unknown): string | undefined {
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_NAME) {
    return `"method" must be a non-empty string of at most ${MAX_NAME} characters`
  }
  if (!METHOD_NAME.test(method)) {
    return '"method" must start with a letter, \'_\' or \'$\' and hold only letters, digits and _ $ . : / -'
  }
  return undefined
}

/** True when `value` holds arrays or objects nested more than `limit` levels deep. */
function depthExceeds(value: unknown, limit: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (limit === 0) return true
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (depthExceeds(item, limit - 1)) return true
  return false
}

function invalid(message: string): never {
  throw new ImError(ImErrorCode.InvalidPayload, message)
}

/** The payload's properties keyed by lower-cased name; refuses anything but a JSON object. */
export function fieldsOf(payload: unknown): Fields {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) invalid('payload must be a JSON object')
  const fields = new Map<string, unknown>()
  for (const [key, value] of Object.entries(payload)) fields.set(key.toLowerCase(), value)
  return fields
}

function name(fields: Fields, key: string): string | undefined {
  const value = fields.get(key.toLowerCase())
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_NAME) {
    invalid(`"${key}" must be a non-empty string of at most ${MAX_NAME} characters`)
  }
  return value
}

function names(fields: Fields, key: string): string[] | undefined {
  const value = fields.get(key.toLowerCase())
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME)) {
    invalid(`"${key}" must be an array of non-empty strings`)
  }
  return value as string[]
}

/**
 * `method` plus `args` (or `data`), and the optional `excludeConnectionIds`, `spreadMs`,
 * `collapseKey`, `collapseWindowMs` and `durable`. With the `context` of a durable message taken
 * from a stream, `delivery` carries its sequence, so that it reaches each connection once.
 */
export function readSendMessage(payload: unknown, context?: { readonly sequence?: number }): SendMessage {
  const fields = fieldsOf(payload)
  const rawMethod = fields.get('method')
  if (rawMethod === undefined || rawMethod === null) invalid('"method" is missing')
  const methodProblem = methodNameProblem(rawMethod)
  if (methodProblem) invalid(methodProblem)
  const method = rawMethod as string
  let args: readonly unknown[]
  const rawArgs = fields.get('args')
  if (rawArgs !== undefined && rawArgs !== null) {
    if (!Array.isArray(rawArgs)) invalid('"args" must be an array')
    args = rawArgs
  } else if (fields.has('data')) {
    args = [fields.get('data')]
  } else {
    args = []
  }
  // Every hub protocol must be able to write what we deliver: MessagePack stops at 100 levels,
  // the JSON hub protocol reads 64. Refusing deeper arguments keeps "all clients or none".
  if (depthExceeds(args, MAX_ARGS_DEPTH)) invalid(`"args" are nested deeper than ${MAX_ARGS_DEPTH} levels`)
  const excludeConnectionIds = names(fields, 'excludeConnectionIds') ?? []
  const durable = readDurable(fields)
  let delivery = readShaping(fields)
  if (durable && delivery) invalid('a "durable" message is delivered at once and in order: it takes no "spreadMs", "collapseKey" or "collapseWindowMs"')
  if (durable && context?.sequence !== undefined) delivery = { durableSequence: context.sequence }
  return { method, args, excludeConnectionIds, ...(delivery ? { delivery } : {}), ...(durable ? { durable } : {}) }
}

function readDurable(fields: Fields): true | undefined {
  const value = fields.get('durable')
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'boolean') invalid(`"durable" must be true or false, not ${JSON.stringify(value).slice(0, 40)}`)
  return value || undefined
}

function readShaping(fields: Fields): DeliveryShaping | undefined {
  const shaping: Record<string, unknown> = {}
  let any = false
  for (const key of ['spreadMs', 'collapseKey', 'collapseWindowMs'] as const) {
    const value = fields.get(key.toLowerCase())
    if (value === undefined || value === null) continue
    shaping[key] = value
    any = true
  }
  if (!any) return undefined
  const problem = shapingProblem(shaping)
  if (problem) invalid(problem)
  return shaping as DeliveryShaping
}

/**
 * The targets named by a singular and a plural property, e.g. `connectionId` / `connectionIds`.
 * At least one target is required.
 */
export function readTargets(payload: unknown, singular: string, plural: string): string[] {
  const fields = fieldsOf(payload)
  const one = name(fields, singular)
  const many = names(fields, plural)
  const targets = [...(one === undefined ? [] : [one]), ...(many ?? [])]
  if (targets.length === 0) invalid(`"${singular}" or "${plural}" is missing`)
  return targets
}

/** `group` plus exactly one of `connectionId` or `userId`. */
export function readGroupMembership(payload: unknown): GroupMembershipMessage {
  const fields = fieldsOf(payload)
  const group = name(fields, 'group') ?? invalid('"group" is missing')
  const connectionId = name(fields, 'connectionId')
  const userId = name(fields, 'userId')
  if ((connectionId === undefined) === (userId === undefined)) invalid('exactly one of "connectionId" or "userId" is required')
  return connectionId !== undefined ? { group, connectionId } : { group, userId }
}
