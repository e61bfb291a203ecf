/**
 * The seam between a client connection and the way its bytes travel: WebSockets, Server-Sent
 * Events and long polling each implement it. Besides sending, closing and the two callbacks it
 * tells the connection what the client has not read yet, and, where the transport can, lets the
 * connection stop reading from a client that sends too fast.
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
  /**
   * Bytes handed to the transport that the client has not taken yet (socket buffers, a long
   * poll's queue): the measure of a client that does not keep up.
   */
  readonly bufferedBytes: number
  /** Messages waiting, where the transport queues them itself (long polling). */
  readonly bufferedMessages?: number
  /**
   * Stops reading from the client for `ms` (its data waits in the kernel, costing us nothing),
   * where the transport can; used to slow down a client that floods invocations.
   */
  pauseReceiving?(ms: number): void
  /**
   * Stops reading from the client until called again with false, where the transport can; used
   * while the client's stream buffers are full. Independent of `pauseReceiving`: reading resumes
   * once neither holds it.
   */
  holdReceiving?(held: boolean): void
  /** Sends one transport message; `binary` picks a binary frame where the transport has them. */
  send(data: string | Uint8Array, binary: boolean): void
  /**
   * Ends the transport normally (WebSocket close code 1000). Idempotent. A peer that does not
   * complete the close in a few seconds (it stopped reading) is cut off. `goingAway` says the
   * server is leaving (WebSocket close code 1001), where the transport has such a code.
   */
  close(options?: { readonly goingAway?: boolean }): void
  /** Resolves once the transport has ended and what was queued for the client has gone out (or was given up). */
  readonly closed: Promise<void>
  /** Set by the connection: called with each message received. */
  onMessage: ((data: string | Uint8Array) => void) | undefined
  /** Set by the connection: called once when the transport has ended, with an IM_CONNECTION_CLOSED ImError if abnormal. */
  onClose: ((error?: Error) => void) | undefined
}
