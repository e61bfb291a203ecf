/**
 * `this.context.http` of a connection that keeps no request: one of a hub with
 * `@Hub({ httpContext: false })`, or one moving in from another node until its client's upgrade
 * arrives. Frozen, one object per transport.
 */
import type { HttpContextSnapshot } from '../connection/opening-request.js'

const NONE: Readonly<Record<string, string>> = Object.freeze(Object.create(null))
const EMPTY = new Map<string, HttpContextSnapshot>()

export function emptyHttpContext(transport: string): HttpContextSnapshot {
  let empty = EMPTY.get(transport)
  if (!empty) EMPTY.set(transport, (empty = Object.freeze({ headers: NONE, query: NONE, cookies: NONE, path: '', remoteAddress: undefined, transport })))
  return empty
}
