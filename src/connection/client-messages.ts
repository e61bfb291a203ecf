/**
 * What an open connection does with the hub messages its client sends (HubProtocol.md): a Ping
 * only proves the client alive, an Ack frees buffered frames, a Sequence says where a resumed
 * client's messages go on, a Close ends the connection, and everything else goes to the
 * InvocationHandler. With stateful reconnect, a replayed message already handled is dropped. A
 * frame the protocol cannot read closes the connection with the reason.
 */
import type { ParseResult } from '../protocol/hub-protocol.js'
import { CLOSE_ERROR_PREFIX, MessageType } from '../protocol/messages.js'
import type { ConnectionSettings } from './connection-options.js'
import type { HubConnection } from './hub-connection.js'
import { isTracked } from './message-buffer.js'
import type { MessageBuffer } from './message-buffer.js'

/** `buffer` is the connection's stateful-reconnect bookkeeping, if it negotiated it. */
export function handleClientMessages(connection: HubConnection, buffer: MessageBuffer | undefined, parsed: ParseResult, settings: ConnectionSettings): void {
  const { messages, sizes } = parsed
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i]!
    // A message handled before may have ended the connection.
    if (!connection.isConnected) return
    if (buffer && isTracked(message) && !buffer.accept()) continue
    switch (message.type) {
      case MessageType.Ping:
        break
      case MessageType.Ack:
        buffer?.ack(message.sequenceId)
        break
      case MessageType.Sequence:
        if (buffer && !buffer.resetReceiving(message.sequenceId)) {
          connection.close({ error: `${CLOSE_ERROR_PREFIX} InvalidOperationException: Sequence ID greater than amount of messages we've received.` })
          return
        }
        break
      case MessageType.Close:
        // The client is leaving: answer with a plain Close and end (HubConnectionHandler).
        connection.close()
        return
      default:
        settings.handler.onMessage(connection, message, sizes![i]!)
    }
  }
  if (parsed.error !== undefined) {
    settings.onInvalidData?.()
    settings.logger.info('closing a connection that sent an invalid message', { connectionId: connection.connectionId, detail: parsed.error })
    // Unlike .NET without detailed errors, the detail is always given: it names the broken
    // rule and reveals nothing about the server.
    connection.close({ error: `${CLOSE_ERROR_PREFIX} InvalidDataException: ${parsed.error}`, allowReconnect: true })
  }
}
