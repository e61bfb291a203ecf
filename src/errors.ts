/**
 * The one error type of IMService. Every failure we raise carries a stable `code` from the catalogue
 * below; foreign errors (NATS, jose, ws) are converted at the edge and passed on as `cause`.
 */
export const ImErrorCode = {
  /** Configuration is missing or invalid. */
  ConfigInvalid: 'IM_CONFIG_INVALID',
  /** A hub class or its decorators are used wrongly (found at start-up). */
  HubDefinitionInvalid: 'IM_HUB_DEFINITION_INVALID',
  /** `im generate` found a hub it cannot turn into typed code (names file, line and member). */
  CodegenUnsupported: 'IM_CODEGEN_UNSUPPORTED',
  /** The message bus (NATS) is not connected, so the message could not be handed over. */
  BusUnavailable: 'IM_BUS_UNAVAILABLE',
  /**
   * The configured JetStream stream cannot be created because other streams hold some of its
   * subjects; the message names them and what to change (found at start-up).
   */
  StreamConflict: 'IM_STREAM_CONFLICT',
  /** A request found no subscriber to answer it (NATS "no responders"). */
  BusNoResponders: 'IM_BUS_NO_RESPONDERS',
  /** A request reached a subscriber, but no answer came in time; also a connect or drain of NATS past its bound. */
  BusTimeout: 'IM_BUS_TIMEOUT',
  /** A publish to the bus failed for another reason (payload too large, JetStream refused...). */
  BusPublishFailed: 'IM_BUS_PUBLISH_FAILED',
  /** A topic or subject supplied by a client or service is not acceptable. */
  InvalidTopic: 'IM_INVALID_TOPIC',
  /** The access token is missing, malformed, expired or not signed by a trusted key. */
  Unauthorized: 'IM_UNAUTHORIZED',
  /** A payload received from a service over the bus is not usable. */
  InvalidPayload: 'IM_INVALID_PAYLOAD',
  /** A configured limit was reached (groups per connection, ...); the message names it. */
  LimitExceeded: 'IM_LIMIT_EXCEEDED',
  /** A client result was asked of a connection that is not connected, or that ended before it answered. */
  ClientNotConnected: 'IM_CLIENT_NOT_CONNECTED',
  /** A client result was asked and the client did not answer in time. */
  ClientResultTimeout: 'IM_CLIENT_RESULT_TIMEOUT',
  /** A hub method threw an error meant for the client (SignalR's HubException). */
  HubException: 'IM_HUB_EXCEPTION',
  /** Hub code used something where it does not exist (`this.context` outside a call, `clients.caller` outside an invocation). */
  InvalidOperation: 'IM_INVALID_OPERATION',
  /**
   * A connection ended abnormally: its transport failed, the server closed it with an error, its
   * handshake failed, or it did not come back within the reconnect window. `onDisconnected` gets it.
   */
  ConnectionClosed: 'IM_CONNECTION_CLOSED',
} as const

export type ImErrorCode = (typeof ImErrorCode)[keyof typeof ImErrorCode]

export class ImError extends Error {
  override name = 'ImError'
  readonly code: ImErrorCode

  constructor(code: ImErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}

/** True when `error` is an ImError, optionally with the given code. */
/** The message of anything thrown, for a log line or an error text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export function isImError(error: unknown, code?: ImErrorCode): error is ImError {
  return error instanceof ImError && (code === undefined || error.code === code)
}

/**
 * Thrown by hub code to send its message to the client: SignalR's HubException. The client sees
 * "An unexpected error occurred invoking '<method>' on the server. HubException: <message>".
 */
export class HubException extends ImError {
  override name = 'HubException'

  constructor(message: string, options?: ErrorOptions) {
    super(ImErrorCode.HubException, message, options)
  }
}
