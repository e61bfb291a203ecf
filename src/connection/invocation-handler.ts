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
  onMessage(connection: HubConnection, message: DispatchedMessage): void
  /** Once, when the connection has ended (after onConnected, if the handshake succeeded). */
  onDisconnected(connection: HubConnection, error: Error | undefined): void
}
