import type {
  CancelInvocationMessage,
  CompletionMessage,
  InvocationMessage,
  StreamInvocationMessage,
  StreamItemMessage,
} from '../protocol/messages.js'
import type { HubConnection } from './hub-connection.js'

/** The hub messages a connection hands on; pings, closes and handshakes it handles itself. */
export type DispatchedMessage =
  | InvocationMessage
  | StreamInvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | CancelInvocationMessage

/** What a connection calls into; implemented by the hub dispatcher. */
export interface InvocationHandler {
  /**
   * After a successful handshake. Messages that follow are handed on at once; the handler runs
   * them after its own connect work, and closes the connection itself if that work fails.
   */
  onConnected(connection: HubConnection): void
  /**
   * `size` is the size of the frame the message came in (ParseResult.sizes): what buffering it
   * costs is charged by it.
   */
  onMessage(connection: HubConnection, message: DispatchedMessage, size: number): void
  /** Once, when the connection has ended (after onConnected, if the handshake succeeded). */
  onDisconnected(connection: HubConnection, error: Error | undefined): void
  /**
   * A connection moving here from another node (connection-move.ts): it joins the lifetime with
   * these groups, without the hub's onConnected or a connected event (it never disconnected).
   * Called again with the groups of the final state; joins are idempotent.
   */
  onMovedHere(connection: HubConnection, groups: readonly string[]): void
  /**
   * Before a connection moves away: resolves once its blocking invocations have answered (their
   * Completions then move with it), or after `timeoutMs`, with the ids of its open server streams.
   */
  settleForMove(connection: HubConnection, timeoutMs: number): Promise<readonly string[]>
  /** The connection moved to another node (or failed to move here): leaves without a disconnected event. */
  onMovedAway(connection: HubConnection): void
}
