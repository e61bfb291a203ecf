/**
 * The control messages nodes send each other about connections (`im.<hub>.node.<tag>` and
 * `im.<hub>.node.any`), defined once: their types, their wire form and its validation. The wire
 * form is UTF-8 JSON, the same as nodes of the previous version send, so a rolling upgrade mixes
 * versions safely. What cluster-router.ts does with each message is described there.
 *
 * Whatever arrives on those subjects is untrusted (any NATS client allowed to publish there can
 * send it): each decode function returns `{ ok: false, reason }` naming the first field that is
 * wrong, and never throws.
 *
 * Requests (field `op` on the wire) and what each is answered with:
 * - `claim` -> ClaimAnswer
 * - `http`  -> RelayedResponse
 * - `take`  -> TakeAnswer
 * - `held`, `ended`: no answer
 */
import type { MoveOffer, MoveState } from '../connection/connection-move.js'
import { isNodeTag } from './node-tag.js'

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string }

/** An HTTP request (poll, send, delete) played on the node holding its connection. */
export interface RelayedRequest {
  readonly method: string
  /** Path and query. */
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Base64. */
  readonly body: string
}

export interface RelayedResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** Base64. */
  readonly body: string
}

/** A question about the connection of `token`, from the node `by`. */
export interface Claim {
  readonly kind: 'claim'
  readonly token: string
  readonly by: string
  /** The request opens a transport: an unopened connection may be handed over to `by`. */
  readonly opening: boolean
  /** A stateful-reconnect WebSocket asks: the connection may move to `by`. */
  readonly resume: boolean
  /** Who asks; the answer is `forbidden` for another user's connection. */
  readonly userId: string | undefined
  /** Sent to every node: only the node holding the connection answers, and only with an offer. */
  readonly anyone: boolean
}

export type ControlRequest =
  | Claim
  | { readonly kind: 'http'; readonly request: RelayedRequest }
  /** Step 2 of a move (connection-move.ts): hand over the connection offered to `by`. */
  | { readonly kind: 'take'; readonly token: string; readonly by: string }
  /** The connection of a token the receiver issued moved to `by`. */
  | { readonly kind: 'held'; readonly token: string; readonly by: string }
  /** A connection the receiver issued and handed over has ended. */
  | { readonly kind: 'ended'; readonly token: string }

export type ClaimAnswer =
  /** An unopened connection, handed over to the node that asked: it holds it from now on. */
  | { readonly kind: 'handover'; readonly connectionId: string; readonly userId: string | undefined; readonly statefulReconnect: boolean }
  /** The connection is open on the node `holder`. */
  | { readonly kind: 'held-by'; readonly holder: string }
  /** Step 1 of a move (connection-move.ts): `holder` offers the connection; take it from there. */
  | { readonly kind: 'offer'; readonly offer: MoveOffer; readonly holder: string }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'unknown' }

export type TakeAnswer = { readonly kind: 'state'; readonly state: MoveState } | { readonly kind: 'unknown' }

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

function encode(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value))
}

export function encodeRequest(request: ControlRequest): Uint8Array {
  switch (request.kind) {
    case 'claim': {
      const { token, by, opening, resume, userId, anyone } = request
      return encode({ op: 'claim', token, by, opening, resume, userId: userId ?? null, anyone })
    }
    case 'http':
      return encode({ op: 'http', request: request.request })
    case 'take':
    case 'held':
      return encode({ op: request.kind, token: request.token, by: request.by })
    case 'ended':
      return encode({ op: 'ended', token: request.token })
  }
}

export function decodeRequest(bytes: Uint8Array): Decoded<ControlRequest> {
  return decode(bytes, (value) => {
    const o = objectOf(value, 'request')
    const what = typeof o.op === 'string' ? o.op : ''
    switch (o.op) {
      case 'claim':
        return {
          kind: 'claim',
          token: token(o, what),
          by: tag(o, 'by', what),
          opening: bool(o, 'opening', what),
          resume: bool(o, 'resume', what),
          userId: stringOrNull(o, 'userId', what),
          // Absent from a claim sent to one node.
          anyone: o.anyone === undefined ? false : bool(o, 'anyone', what),
        }
      case 'http':
        return { kind: 'http', request: relayedRequest(o.request) }
      case 'take':
      case 'held':
        return { kind: o.op, token: token(o, what), by: tag(o, 'by', what) }
      case 'ended':
        return { kind: 'ended', token: token(o, what) }
      default:
        return fail(typeof o.op === 'string' ? `request: unknown op ${JSON.stringify(o.op.slice(0, 32))}` : 'request: "op" is not a string')
    }
  })
}

export function encodeClaimAnswer(answer: ClaimAnswer): Uint8Array {
  switch (answer.kind) {
    case 'handover': {
      const { connectionId, userId, statefulReconnect } = answer
      return encode({ handover: { connectionId, userId: userId ?? null, statefulReconnect } })
    }
    case 'held-by':
      return encode({ holder: answer.holder })
    case 'offer':
      return encode({ offer: answer.offer, holder: answer.holder })
    case 'forbidden':
      return encode({ forbidden: true })
    case 'unknown':
      return encode({ unknown: true })
  }
}

export function decodeClaimAnswer(bytes: Uint8Array): Decoded<ClaimAnswer> {
  return decode(bytes, (value) => {
    const o = objectOf(value, 'claim answer')
    if (o.unknown === true) return { kind: 'unknown' }
    if (o.forbidden === true) return { kind: 'forbidden' }
    if (o.handover !== undefined) {
      const h = objectOf(o.handover, 'claim answer: "handover"')
      const what = 'claim answer: handover'
      return { kind: 'handover', connectionId: key(h, 'connectionId', what), userId: stringOrNull(h, 'userId', what), statefulReconnect: bool(h, 'statefulReconnect', what) }
    }
    if (o.offer !== undefined) {
      const offer = objectOf(o.offer, 'claim answer: "offer"')
      const what = 'claim answer: offer'
      return {
        kind: 'offer',
        offer: { connectionId: key(offer, 'connectionId', what), protocol: key(offer, 'protocol', what), groups: strings(offer, 'groups', what) },
        holder: tag(o, 'holder', 'claim answer'),
      }
    }
    if (o.holder !== undefined) return { kind: 'held-by', holder: tag(o, 'holder', 'claim answer') }
    return fail('claim answer: none of "unknown", "forbidden", "handover", "offer", "holder"')
  })
}

/** A frame as it travels in JSON: text as is, binary (MessagePack) as base64. */
type WireFrame = string | { readonly b: string }

export function encodeTakeAnswer(answer: TakeAnswer): Uint8Array {
  if (answer.kind === 'unknown') return encode({ unknown: true })
  const { buffer, mark, groups, streams } = answer.state
  const frames = buffer.frames.map(({ id, frame, shared }) => [id, typeof frame === 'string' ? frame : { b: Buffer.from(frame).toString('base64') }, shared ? 1 : 0] as const)
  return encode({ sent: buffer.sent, received: buffer.received, mark, groups, streams, frames })
}

export function decodeTakeAnswer(bytes: Uint8Array): Decoded<TakeAnswer> {
  return decode(bytes, (value) => {
    const what = 'take answer'
    const o = objectOf(value, what)
    if (o.unknown === true) return { kind: 'unknown' }
    if (!Array.isArray(o.frames)) return fail(`${what}: "frames" is not an array`)
    const frames = o.frames.map((item: unknown, i) => {
      const at = `${what}: frames[${i}]`
      if (!Array.isArray(item) || item.length !== 3) return fail(`${at} is not [id, frame, shared]`)
      const [id, frame, shared] = item as [unknown, unknown, unknown]
      if (!isCount(id)) return fail(`${at}: the id is not a count`)
      if (shared !== 0 && shared !== 1) return fail(`${at}: "shared" is not 0 or 1`)
      if (typeof frame === 'string') return { id, frame, shared: shared === 1 }
      const binary = objectOf(frame, `${at}: the frame`).b
      if (typeof binary !== 'string' || !isBase64(binary)) return fail(`${at}: the frame is neither text nor { b: base64 }`)
      return { id, frame: new Uint8Array(Buffer.from(binary, 'base64')), shared: shared === 1 }
    })
    return {
      kind: 'state',
      state: {
        buffer: { sent: count(o, 'sent', what), received: count(o, 'received', what), frames },
        mark: count(o, 'mark', what),
        groups: strings(o, 'groups', what),
        streams: strings(o, 'streams', what),
      },
    }
  })
}

export function encodeRelayedResponse(response: RelayedResponse): Uint8Array {
  return encode(response)
}

export function decodeRelayedResponse(bytes: Uint8Array): Decoded<RelayedResponse> {
  return decode(bytes, (value) => {
    const what = 'relayed response'
    const o = objectOf(value, what)
    const status = o.status
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) return fail(`${what}: "status" is not an HTTP status`)
    return { status, headers: headers(o, what), body: base64(o, what) }
  })
}

function relayedRequest(value: unknown): RelayedRequest {
  const what = 'http: request'
  const o = objectOf(value, what)
  const url = key(o, 'url', what)
  if (!url.startsWith('/')) return fail(`${what}: "url" is not a path`)
  return { method: key(o, 'method', what), url, headers: headers(o, what), body: base64(o, what) }
}

/** A field that is not what the wire form says: caught in `decode`, never seen by callers. */
class Malformed extends Error {}

function fail(reason: string): never {
  throw new Malformed(reason)
}

function decode<T>(bytes: Uint8Array, read: (value: unknown) => T): Decoded<T> {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes)) as unknown
  } catch (error) {
    return { ok: false, reason: error instanceof SyntaxError ? 'not JSON' : 'not UTF-8' }
  }
  try {
    return { ok: true, value: read(value) }
  } catch (error) {
    return { ok: false, reason: error instanceof Malformed ? error.message : `unreadable: ${String(error)}` }
  }
}

type Fields = Readonly<Record<string, unknown>>

function objectOf(value: unknown, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return fail(`${what} is not a JSON object`)
  return value as Fields
}

/** A non-empty string. */
function key(o: Fields, name: string, what: string): string {
  const value = o[name]
  if (typeof value !== 'string' || value === '') return fail(`${what}: "${name}" is not a non-empty string`)
  return value
}

function token(o: Fields, what: string): string {
  return key(o, 'token', what)
}

/** A node tag: it becomes a subject token, so nothing else may pass. */
function tag(o: Fields, name: string, what: string): string {
  const value = o[name]
  if (typeof value !== 'string' || !isNodeTag(value)) return fail(`${what}: "${name}" is not a node tag`)
  return value
}

function bool(o: Fields, name: string, what: string): boolean {
  const value = o[name]
  if (typeof value !== 'boolean') return fail(`${what}: "${name}" is not a boolean`)
  return value
}

/** A string, or null (or absent) for none. */
function stringOrNull(o: Fields, name: string, what: string): string | undefined {
  const value = o[name]
  if (value === null || value === undefined) return undefined
  if (typeof value !== 'string') return fail(`${what}: "${name}" is neither a string nor null`)
  return value
}

function strings(o: Fields, name: string, what: string): string[] {
  const value = o[name]
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) return fail(`${what}: "${name}" is not an array of strings`)
  return value as string[]
}

function count(o: Fields, name: string, what: string): number {
  const value = o[name]
  if (!isCount(value)) return fail(`${what}: "${name}" is not a count`)
  return value
}

function headers(o: Fields, what: string): Record<string, string> {
  const value = objectOf(o.headers, `${what}: "headers"`)
  if (!Object.values(value).every((item) => typeof item === 'string')) return fail(`${what}: "headers" has a value that is not a string`)
  return value as Record<string, string>
}

function base64(o: Fields, what: string): string {
  const value = o.body
  if (typeof value !== 'string' || !isBase64(value)) return fail(`${what}: "body" is not base64`)
  return value
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function isBase64(value: string): boolean {
  return value.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(value)
}
