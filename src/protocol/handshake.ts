/**
 * The handshake that opens every hub connection (HubProtocol.md, "Overview"): the client sends
 * `{"protocol":"json","version":1}` plus 0x1E, always as JSON whatever the hub protocol, and the server answers `{}` or `{"error":"..."}` plus 0x1E.
 * Parsing follows HandshakeProtocol.cs TryParseRequestMessage (src/SignalR/common/SignalR.Common).
 */
import { has, readJsonObject } from './json-reader.js'
import { exceedsMaxSize, RECORD_SEPARATOR, RECORD_SEPARATOR_CODE } from './text-message-format.js'

export type HandshakeParseResult =
  /** No separator yet: keep the input and wait for more. */
  | { readonly kind: 'incomplete' }
  | {
      readonly kind: 'request'
      readonly protocol: string
      readonly version: number
      /** What followed the separator (hub messages sent in the same chunk), same type as the input. */
      readonly rest?: string | Uint8Array
    }
  | { readonly kind: 'error'; readonly reason: 'malformed' | 'too-large'; readonly detail: string }

/**
 * Parses the handshake request at the start of `input`. With `maxSize` (the server's maximum
 * receive message size) a request whose payload and separator do not fit is refused, as is an
 * unfinished one that already fills it; .NET answers both with "Handshake was canceled.".
 */
export function parseHandshakeRequest(input: string | Uint8Array, maxSize?: number): HandshakeParseResult {
  const isText = typeof input === 'string'
  const end = isText ? input.indexOf(RECORD_SEPARATOR) : input.indexOf(RECORD_SEPARATOR_CODE)
  const payload = end === -1 ? input : isText ? input.slice(0, end) : input.subarray(0, end)
  if (maxSize !== undefined && exceedsMaxSize(payload, maxSize)) {
    return { kind: 'error', reason: 'too-large', detail: `The handshake exceeds the maximum message size of ${maxSize}B.` }
  }
  if (end === -1) return { kind: 'incomplete' }

  const read = readJsonObject(payload)
  if (!read.ok) return malformed(read.error)
  const { protocol, version } = read.value
  if (has(read.value, 'protocol') && typeof protocol !== 'string') {
    return malformed("Expected 'protocol' to be of type String.")
  }
  // null reads as absent (ReadAsInt32), so it ends as "Missing required property 'version'.".
  if (has(read.value, 'version') && version !== null && !Number.isInteger(version)) {
    return malformed("Expected 'version' to be of type Number.")
  }
  if (typeof protocol !== 'string') return malformed("Missing required property 'protocol'.")
  if (typeof version !== 'number') return malformed("Missing required property 'version'.")

  const restStart = end + 1
  if (restStart >= input.length) return { kind: 'request', protocol, version }
  const rest = isText ? input.slice(restStart) : input.subarray(restStart)
  return { kind: 'request', protocol, version, rest }
}

function malformed(detail: string): HandshakeParseResult {
  return { kind: 'error', reason: 'malformed', detail }
}

/** `{}` plus 0x1E on success; an empty error also counts as success, as in HandshakeProtocol.cs. */
export function writeHandshakeResponse(error?: string): string {
  return error ? `{"error":${JSON.stringify(error)}}${RECORD_SEPARATOR}` : `{}${RECORD_SEPARATOR}`
}

/** The texts the .NET server puts in a handshake error response (HubConnectionContext.cs). */
export const HandshakeError = {
  unsupportedProtocol: (protocol: string): string => `The protocol '${protocol}' is not supported.`,
  unsupportedVersion: (protocol: string, version: number): string =>
    `The server does not support version ${version} of the '${protocol}' protocol.`,
  unsupportedTransferFormat: (protocol: string, transferFormat = 'Binary'): string =>
    `Cannot use the '${protocol}' protocol on the current transport. The transport does not support '${transferFormat}' transfer format.`,
  /** Handshake timeout, or a request larger than the maximum receive message size. */
  canceled: 'Handshake was canceled.',
  /** Anything else, e.g. a malformed request (detail only with detailed errors on). */
  unexpected: 'An unexpected error occurred during connection handshake.',
} as const
