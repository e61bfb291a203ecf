/**
 * The body of an HTTP POST (Server-Sent Events, long polling) as its connection reads it.
 *
 * ASP.NET Core copies the body into the connection whatever its Content-Type
 * (HttpConnectionDispatcher.ProcessSend) and the negotiated protocol reads it. Clients rely on
 * that: the JavaScript clients before 7.0 post MessagePack as `text/plain;charset=UTF-8`, under
 * Node 1.x and 3.x send no Content-Type at all, and neither does the .NET client (SendUtils).
 * So the connection decides, by the transfer format of its protocol: bytes while the handshake
 * runs (its JSON may be followed by binary frames in the same body) and for a binary protocol,
 * text for a text protocol.
 */
import { decodeUtf8 } from '../protocol/json-reader.js'
import { TransferFormat } from '../protocol/messages.js'
import type { HubConnection } from './hub-connection.js'

export function postedInput(body: Uint8Array, connection: Pick<HubConnection, 'isConnected' | 'protocol'>): string | Uint8Array {
  if (!connection.isConnected || connection.protocol.transferFormat === TransferFormat.Binary) return body
  // Bytes that are not UTF-8 stay bytes: the JSON reader refuses them with its own error, and
  // a character cut in two by the end of the body is joined with the next one.
  return decodeUtf8(body) ?? body
}
