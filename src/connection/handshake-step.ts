/**
 * The server's side of the handshake (HubProtocol.md, Handshake): which hub protocol a request
 * picks, or the error text the client gets (the texts of ASP.NET Core's HubConnectionHandler).
 */
import { HandshakeError, parseHandshakeRequest } from '../protocol/handshake.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { TransferFormat } from '../protocol/messages.js'

export type HandshakeStep =
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'refused'; readonly error: string; readonly detail?: string }
  | { readonly kind: 'accepted'; readonly protocol: HubProtocol; readonly version: number; readonly rest: string | Uint8Array | undefined }

export function handshakeStep(
  input: string | Uint8Array,
  options: { readonly maximumReceiveMessageSize: number; readonly protocols: ReadonlyMap<string, HubProtocol> },
  supportsBinary: boolean,
): HandshakeStep {
  const parsed = parseHandshakeRequest(input, options.maximumReceiveMessageSize)
  if (parsed.kind === 'incomplete') return parsed
  if (parsed.kind === 'error') {
    return { kind: 'refused', error: parsed.reason === 'too-large' ? HandshakeError.canceled : HandshakeError.unexpected, detail: parsed.detail }
  }
  const protocol = options.protocols.get(parsed.protocol)
  if (!protocol) return { kind: 'refused', error: HandshakeError.unsupportedProtocol(parsed.protocol) }
  if (parsed.version > protocol.version) return { kind: 'refused', error: HandshakeError.unsupportedVersion(parsed.protocol, parsed.version) }
  if (protocol.transferFormat === TransferFormat.Binary && !supportsBinary) {
    return { kind: 'refused', error: HandshakeError.unsupportedTransferFormat(parsed.protocol) }
  }
  return { kind: 'accepted', protocol, version: parsed.version, rest: parsed.rest }
}
