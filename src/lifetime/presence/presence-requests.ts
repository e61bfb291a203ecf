/**
 * What services send on the presence subjects, read and checked. Pure: a payload becomes a typed
 * request or the one sentence that says what is wrong with it, which the caller sends back.
 * Property names match ignoring case, as on the send subjects (a .NET `{"UserId": ...}` works).
 */

/** Most user ids one `presence.users` request may ask about. */
export const MAX_USERS_PER_REQUEST = 1000
/** Most connections or users one disconnect may name. */
export const MAX_DISCONNECT_TARGETS = 1000
/** Longest user id, connection id or group name, in characters. */
export const MAX_ID_LENGTH = 1024
/** Longest disconnect reason, in characters (cut, not refused: it is text for a person). */
export const MAX_REASON_LENGTH = 1024

export type PresenceQuery =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'users'; readonly userIds: readonly string[] }
  | { readonly kind: 'group'; readonly group: string }

export interface DisconnectCommand {
  readonly userIds: readonly string[]
  readonly connectionIds: readonly string[]
  readonly reason: string | undefined
}

export type Parsed<T> = { readonly ok: T } | { readonly error: string }

const decoder = new TextDecoder('utf-8', { fatal: true })

export function parseUserQuery(data: Uint8Array): Parsed<PresenceQuery> {
  const body = readObject(data)
  if ('error' in body) return body
  const userId = idField(body.ok, 'userId', true)
  if (typeof userId !== 'string') return userId ?? { error: '"userId" is missing' }
  return { ok: { kind: 'user', userId } }
}

export function parseUsersQuery(data: Uint8Array): Parsed<PresenceQuery> {
  const body = readObject(data)
  if ('error' in body) return body
  const userIds = idList(body.ok, 'userIds', MAX_USERS_PER_REQUEST)
  if (userIds === undefined) return { error: '"userIds" is missing' }
  if ('error' in userIds) return userIds
  return { ok: { kind: 'users', userIds: userIds.ok } }
}

export function parseGroupQuery(data: Uint8Array): Parsed<PresenceQuery> {
  const body = readObject(data)
  if ('error' in body) return body
  const group = idField(body.ok, 'group', true)
  if (typeof group !== 'string') return group ?? { error: '"group" is missing' }
  return { ok: { kind: 'group', group } }
}

export function parseDisconnect(data: Uint8Array): Parsed<DisconnectCommand> {
  const body = readObject(data)
  if ('error' in body) return body
  const userIds: string[] = []
  const connectionIds: string[] = []
  for (const [single, many, into] of [['userId', 'userIds', userIds], ['connectionId', 'connectionIds', connectionIds]] as const) {
    const one = idField(body.ok, single, false)
    if (one !== undefined && typeof one !== 'string') return one
    if (one !== undefined) into.push(one)
    const list = idList(body.ok, many, MAX_DISCONNECT_TARGETS)
    if (list !== undefined && 'error' in list) return list
    if (list !== undefined) into.push(...list.ok)
  }
  if (userIds.length === 0 && connectionIds.length === 0) return { error: 'one of "userId", "userIds", "connectionId" or "connectionIds" is required' }
  if (userIds.length + connectionIds.length > MAX_DISCONNECT_TARGETS) return { error: `at most ${MAX_DISCONNECT_TARGETS} users and connections may be named at once` }
  const reason = field(body.ok, 'reason')
  if (reason !== undefined && reason !== null && typeof reason !== 'string') return { error: '"reason" must be a string' }
  return { ok: { userIds, connectionIds, reason: typeof reason === 'string' && reason !== '' ? reason.slice(0, MAX_REASON_LENGTH) : undefined } }
}

function readObject(data: Uint8Array): Parsed<Record<string, unknown>> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(data))
  } catch {
    return { error: 'the request is not UTF-8 JSON' }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'the request must be a JSON object' }
  return { ok: value as Record<string, unknown> }
}

/** The property named `name` ignoring case; the exact spelling wins. */
function field(body: Record<string, unknown>, name: string): unknown {
  if (name in body) return body[name]
  const lower = name.toLowerCase()
  const key = Object.keys(body).find((k) => k.toLowerCase() === lower)
  return key === undefined ? undefined : body[key]
}

/** A string id: the id, undefined when absent (and not `required`), or why it is not usable. */
function idField(body: Record<string, unknown>, name: string, required: boolean): string | { error: string } | undefined {
  const value = field(body, name)
  if (value === undefined) return required ? { error: `"${name}" is missing` } : undefined
  return checkId(value, `"${name}"`)
}

function idList(body: Record<string, unknown>, name: string, max: number): Parsed<string[]> | undefined {
  const value = field(body, name)
  if (value === undefined) return undefined
  if (!Array.isArray(value)) return { error: `"${name}" must be an array of strings` }
  if (value.length > max) return { error: `"${name}" holds ${value.length} ids; at most ${max} are taken per request` }
  const ids: string[] = []
  for (let i = 0; i < value.length; i++) {
    const id = checkId(value[i], `"${name}"[${i}]`)
    if (typeof id !== 'string') return id
    ids.push(id)
  }
  return { ok: ids }
}

function checkId(value: unknown, what: string): string | { error: string } {
  if (typeof value !== 'string') return { error: `${what} must be a string` }
  if (value.length === 0) return { error: `${what} must not be empty` }
  if (value.length > MAX_ID_LENGTH) return { error: `${what} is longer than ${MAX_ID_LENGTH} characters` }
  return value
}
