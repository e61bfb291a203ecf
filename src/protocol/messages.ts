/**
 * SignalR hub messages as typed values. Wire names follow HubProtocol.md in dotnet/aspnetcore
 * (src/SignalR/docs/specs/HubProtocol.md) verbatim.
 */
export const MessageType = {
  Invocation: 1,
  StreamItem: 2,
  Completion: 3,
  StreamInvocation: 4,
  CancelInvocation: 5,
  Ping: 6,
  Close: 7,
  Ack: 8,
  Sequence: 9,
} as const

export type MessageType = (typeof MessageType)[keyof typeof MessageType]

export type MessageHeaders = Record<string, string>

export interface InvocationMessage {
  readonly type: typeof MessageType.Invocation
  readonly invocationId?: string
  readonly target: string
  readonly arguments: unknown[]
  readonly streamIds?: string[]
  readonly headers?: MessageHeaders
}

export interface StreamInvocationMessage {
  readonly type: typeof MessageType.StreamInvocation
  readonly invocationId: string
  readonly target: string
  readonly arguments: unknown[]
  readonly streamIds?: string[]
  readonly headers?: MessageHeaders
}

export interface StreamItemMessage {
  readonly type: typeof MessageType.StreamItem
  readonly invocationId: string
  readonly item: unknown
  readonly headers?: MessageHeaders
}

/**
 * A Completion carries `result` or `error`, never both (HubProtocol.md, Completion). A Completion
 * with neither ends a stream, or answers a void method when `result` is present and null.
 */
export interface CompletionMessage {
  readonly type: typeof MessageType.Completion
  readonly invocationId: string
  readonly result?: unknown
  readonly error?: string
  readonly headers?: MessageHeaders
}

export interface CancelInvocationMessage {
  readonly type: typeof MessageType.CancelInvocation
  readonly invocationId: string
  readonly headers?: MessageHeaders
}

export interface PingMessage {
  readonly type: typeof MessageType.Ping
}

export interface CloseMessage {
  readonly type: typeof MessageType.Close
  readonly error?: string
  readonly allowReconnect?: boolean
}

export interface AckMessage {
  readonly type: typeof MessageType.Ack
  readonly sequenceId: number
}

export interface SequenceMessage {
  readonly type: typeof MessageType.Sequence
  readonly sequenceId: number
}

export type HubMessage =
  | InvocationMessage
  | StreamInvocationMessage
  | StreamItemMessage
  | CompletionMessage
  | CancelInvocationMessage
  | PingMessage
  | CloseMessage
  | AckMessage
  | SequenceMessage

/** The transfer format a hub protocol needs from its transport (TransportProtocols.md). */
export const TransferFormat = { Text: 'Text', Binary: 'Binary' } as const
export type TransferFormat = (typeof TransferFormat)[keyof typeof TransferFormat]

/** The text the .NET server puts in front of every server-side Close error (HubConnectionHandler). */
export const CLOSE_ERROR_PREFIX = 'Connection closed with an error.'
