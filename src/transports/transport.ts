/**
 * The seam between a client connection and the way its bytes travel (WebSockets now; Server-Sent
 * Events and long polling slot in behind the same five members).
 */
export const TransportName = {
  WebSockets: 'WebSockets',
  ServerSentEvents: 'ServerSentEvents',
  LongPolling: 'LongPolling',
} as const

export type TransportName = (typeof TransportName)[keyof typeof TransportName]

export interface ServerTransport {
  readonly name: TransportName
  /** Whether the transport can carry binary frames (TransportProtocols.md: SSE cannot). */
  readonly supportsBinary: boolean
  /** Sends one transport message; `binary` picks a binary frame where the transport has them. */
  send(data: string | Uint8Array, binary: boolean): void
  /** Ends the transport normally (WebSocket close code 1000). Idempotent. */
  close(): void
  /** Set by the connection: called with each message received. */
  onMessage: ((data: string | Uint8Array) => void) | undefined
  /** Set by the connection: called once when the transport has ended, with the cause if abnormal. */
  onClose: ((error?: Error) => void) | undefined
}
