/**
 * The negotiate exchange (TransportProtocols.md, "POST [endpoint-base]/negotiate"). Version
 * selection follows HttpConnectionDispatcher.cs ProcessNegotiate and the payload
 * NegotiateProtocol.cs WriteResponse (src/SignalR/common/Http.Connections*).
 */
export type NegotiateTransport = 'WebSockets' | 'ServerSentEvents' | 'LongPolling'
export type NegotiateTransferFormat = 'Text' | 'Binary'

export interface AvailableTransport {
  readonly transport: NegotiateTransport
  readonly transferFormats: readonly NegotiateTransferFormat[]
}

export interface NegotiateResponse {
  readonly negotiateVersion: 0 | 1
  readonly connectionId: string
  /** Sent only when negotiateVersion > 0; a version-0 client uses the connection id instead. */
  readonly connectionToken?: string
  /** In the order the client should try them: WebSockets, ServerSentEvents, LongPolling. */
  readonly availableTransports: readonly AvailableTransport[]
  /** True only when the client asked for stateful reconnect and the server allows it. */
  readonly useStatefulReconnect?: boolean
}

export type NegotiateVersionResult = { readonly version: 0 | 1 } | { readonly error: string }

/** The highest negotiate version the .NET server (and this one) speaks. */
export const NEGOTIATE_VERSION = 1

// Int32.TryParse with NumberStyles.Integer: surrounding white space and one sign are allowed.
const INTEGER = /^[\t\n\v\f\r ]*([+-]?)(\d+)[\t\n\v\f\r ]*$/

/**
 * Picks the negotiate version from the raw `negotiateVersion` query value (null when absent).
 * Absent means version 0; above NEGOTIATE_VERSION is lowered to it, not refused.
 */
export function parseNegotiateVersion(raw: string | null, minimumVersion = 0): NegotiateVersionResult {
  let requested = 0
  if (raw !== null) {
    const parsed = parseInt32(raw)
    if (parsed === undefined) return { error: 'The client requested a non-integer protocol version.' }
    requested = parsed
  }
  if (requested < minimumVersion) {
    return { error: `The client requested version '${requested}', but the server does not support this version.` }
  }
  return { version: requested >= NEGOTIATE_VERSION ? NEGOTIATE_VERSION : 0 }
}

function parseInt32(raw: string): number | undefined {
  const match = INTEGER.exec(raw)
  if (match === null) return undefined
  const value = Number(`${match[1]}${match[2]}`)
  // `|| 0` turns -0 into 0, as Int32.TryParse("-0") gives 0.
  return value >= -2147483648 && value <= 2147483647 ? value || 0 : undefined
}

/** The success payload, fields in the order .NET writes them; the client ignores order anyway. */
export function writeNegotiateResponse(response: NegotiateResponse): string {
  let text = '{'
  if (response.useStatefulReconnect === true) text += '"useStatefulReconnect":true,'
  text += `"negotiateVersion":${response.negotiateVersion},"connectionId":${JSON.stringify(response.connectionId)}`
  if (response.negotiateVersion > 0 && response.connectionToken) {
    text += `,"connectionToken":${JSON.stringify(response.connectionToken)}`
  }
  const transports = response.availableTransports.map(
    (t) => `{"transport":${JSON.stringify(t.transport)},"transferFormats":${JSON.stringify(t.transferFormats)}}`,
  )
  return `${text},"availableTransports":[${transports.join(',')}]}`
}

/** A refused negotiate: .NET still answers 200 with this body, and the client throws `error`. */
export function writeNegotiateError(message: string): string {
  return `{"error":${JSON.stringify(message)}}`
}
