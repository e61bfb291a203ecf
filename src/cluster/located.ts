/**
 * Where a connection token leads, and what a client is told when it leads nowhere usable. The
 * statuses and texts are those of ASP.NET Core's HttpConnectionDispatcher, plus 503 for what a
 * single ASP.NET Core server never meets: a node of the cluster that is there but did not answer.
 *
 * | outcome | status | why |
 * | --- | --- | --- |
 * | `forbidden`: another user's connection | 403 | the token opens nothing for this user |
 * | `missing`: no node has it | 404 `No Connection with that ID` | the client starts afresh |
 * | `node-gone`: the node that had it stopped | 404 | its connection is lost with it: start afresh |
 * | `bad-answer`: a node of another version | 404 | nothing usable will come: start afresh |
 * | `elsewhere` / `movable` where it cannot be used | 404 | a WebSocket cannot be relayed |
 * | `node-slow`: the node did not answer in time | 503 | the connection may still be there: retry |
 * | `bus-down`: this node has no NATS | 503 | other nodes cannot be asked now: retry |
 *
 * The official clients treat both the same way (a failed poll or send ends the connection, and a
 * failed stateful reconnect falls back to a fresh one), so the difference is for operators and
 * for clients that retry on 503. The log lines differ too (cluster-router.ts): a slow node is a
 * warning, a stopped one a debug line.
 */
import type { MoveOffer } from '../connection/connection-move.js'
import type { Unanswered } from './cluster-router.js'
import type { ConnectionEntry } from './connection-entry.js'

export type Located =
  /** Here, for this user (just taken over from the node that negotiated it, maybe). */
  | { readonly kind: 'found'; readonly entry: ConnectionEntry }
  /** Open on the node `holder`: relay the request there. */
  | { readonly kind: 'elsewhere'; readonly holder: string }
  /** Open on the node `holder`, which offers to move it here (a stateful reconnect). */
  | { readonly kind: 'movable'; readonly offer: MoveOffer; readonly holder: string }
  | { readonly kind: 'forbidden' }
  | { readonly kind: 'missing' }
  | Unanswered

export const FORBIDDEN: { readonly kind: 'forbidden' } = { kind: 'forbidden' }
export const MISSING: { readonly kind: 'missing' } = { kind: 'missing' }

const NO_CONNECTION = 'No Connection with that ID'

/** The status and text that refuse a request for what was not found here. */
export function refusalOf(outcome: Exclude<Located, { readonly kind: 'found' }> | { readonly kind: 'unknown' }): readonly [status: number, text: string] {
  switch (outcome.kind) {
    case 'forbidden':
      return [403, '']
    case 'node-slow':
      return [503, 'The server holding this connection did not answer in time; try again.']
    case 'bus-down':
      return [503, 'This server cannot reach the others now; try again.']
    default:
      return [404, NO_CONNECTION]
  }
}
