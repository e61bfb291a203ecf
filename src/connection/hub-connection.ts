/**
 * One client connection of a hub: the handshake, parsing incoming frames, sending, and closing
 * with the Close message SignalR clients expect. Timers live in ConnectionSweeper, dispatch in the
 * InvocationHandler; this file only moves messages.
 */
import type { Principal } from '../auth/principal.js'
import type { Logger } from '../logger.js'
import { HandshakeError, parseHandshakeRequest, writeHandshakeResponse } from '../protocol/handshake.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { MessageType, TransferFormat } from '../protocol/messages.js'
import type { HubMessage } from '../protocol/messages.js'
import type { ServerTransport } from '../transports/transport.js'
import type { InvocationHandler } from './invocation-handler.js'

export type ConnectionState = 'handshake' | 'connected' | 'closed'

export interface HubConnectionOptions {
  readonly connectionId: string
  readonly principal: Principal
  readonly transport: ServerTransport
  /** Hub protocols by handshake name. */
  readonly protocols: ReadonlyMap<string, HubProtocol>
  readonly handler: InvocationHandler
  readonly maxMessageSize: number
  readonly logger: Logger
  /** Called once when the connection has ended, after the handler heard of it. */
  readonly onEnded?: (connection: HubConnection) => void
}

/** The text .NET puts in front of every server-side Close error (HubConnectionHandler). */
export const CLOSE_ERROR_PREFIX = 'Connection closed with an error.'

export class HubConnection {
  readonly connectionId: string
  readonly principal: Principal
  readonly transport: ServerTransport
  readonly createdAt = Date.now()
  state: ConnectionState = 'handshake'
  /** Updated on every message received; read by the sweeper for the client timeout. */
  lastReceivedAt = this.createdAt
  /** Updated on every ping sent; read by the sweeper for the keep-alive cadence. */
  lastPingAt = this.createdAt
  private selectedProtocol: HubProtocol | undefined
  private binary = false
  private pending: string | Uint8Array | undefined
  private endError: Error | undefined

  constructor(private readonly options: HubConnectionOptions) {
    this.connectionId = options.connectionId
    this.principal = options.principal
    this.transport = options.transport
    this.transport.onMessage = (data) => this.receive(data)
    this.transport.onClose = (error) => this.ended(error)
  }

  get userId(): string | undefined {
    return this.principal.userId
  }

  /** The hub protocol chosen in the handshake. */
  get protocol(): HubProtocol {
    if (!this.selectedProtocol) throw new Error('the handshake has not completed')
    return this.selectedProtocol
  }

  receive(data: string | Uint8Array): void {
    if (this.state === 'closed') return
    this.lastReceivedAt = Date.now()
    const input = this.pending === undefined ? data : join(this.pending, data)
    this.pending = undefined
    if (this.state === 'handshake') this.receiveHandshake(input)
    else this.receiveMessages(input)
  }

  /** Serializes and sends one message. */
  send(message: HubMessage): void {
    if (this.state === 'connected') this.transport.send(this.protocol.writeMessage(message), this.binary)
  }

  /** Sends a frame already serialized with this connection's protocol (a broadcast, say). */
  sendFrame(frame: string | Uint8Array): void {
    if (this.state === 'connected') this.transport.send(frame, this.binary)
  }

  sendPing(): void {
    this.lastPingAt = Date.now()
    this.send({ type: MessageType.Ping })
  }

  /**
   * Ends the connection from the server side. With an error, the client is told
   * "Connection closed with an error. <detail>"; `allowReconnect` lets its automatic reconnect run.
   */
  close(options: { error?: string; allowReconnect?: boolean } = {}): void {
    if (this.state === 'closed') return
    if (this.state === 'connected') {
      this.send({ type: MessageType.Close, error: options.error, allowReconnect: options.allowReconnect })
    }
    if (options.error) this.endError = new Error(options.error)
    this.transport.close()
    this.ended(undefined)
  }

  /** Fails the handshake with the given error text and ends the connection. */
  failHandshake(error: string): void {
    if (this.state !== 'handshake') return
    this.transport.send(writeHandshakeResponse(error), false)
    this.endError = new Error(error)
    this.transport.close()
    this.ended(undefined)
  }

  private receiveHandshake(input: string | Uint8Array): void {
    const parsed = parseHandshakeRequest(input, this.options.maxMessageSize)
    if (parsed.kind === 'incomplete') {
      this.pending = input
      return
    }
    if (parsed.kind === 'error') {
      this.options.logger.debug('handshake refused', { connectionId: this.connectionId, detail: parsed.detail })
      this.failHandshake(parsed.reason === 'too-large' ? HandshakeError.canceled : HandshakeError.unexpected)
      return
    }
    const protocol = this.options.protocols.get(parsed.protocol)
    if (!protocol) return this.failHandshake(HandshakeError.unsupportedProtocol(parsed.protocol))
    if (parsed.version > protocol.version) return this.failHandshake(HandshakeError.unsupportedVersion(parsed.protocol, parsed.version))
    if (protocol.transferFormat === TransferFormat.Binary && !this.transport.supportsBinary) {
      return this.failHandshake(HandshakeError.unsupportedTransferFormat(parsed.protocol))
    }
    this.selectedProtocol = protocol
    this.binary = protocol.transferFormat === TransferFormat.Binary
    // The reply travels in the protocol's own format: a binary frame for MessagePack (as .NET does).
    const reply = writeHandshakeResponse()
    this.transport.send(this.binary ? new TextEncoder().encode(reply) : reply, this.binary)
    this.state = 'connected'
    this.options.handler.onConnected(this)
    if (parsed.rest !== undefined) this.receiveMessages(parsed.rest)
  }

  private receiveMessages(input: string | Uint8Array): void {
    const result = this.protocol.parseMessages(input, { maxMessageSize: this.options.maxMessageSize })
    this.pending = result.rest
    for (const message of result.messages) {
      if (this.state !== 'connected') return
      switch (message.type) {
        case MessageType.Ping:
        case MessageType.Ack:
        case MessageType.Sequence:
          break
        case MessageType.Close:
          // The client is leaving: answer with a plain Close and end (HubConnectionHandler).
          this.close()
          return
        default:
          this.options.handler.onMessage(this, message)
      }
    }
    if (result.error !== undefined) {
      this.options.logger.info('closing a connection that sent an invalid message', { connectionId: this.connectionId, detail: result.error })
      // Unlike .NET without detailed errors, the detail is always given: it names the broken
      // rule and reveals nothing about the server.
      this.close({ error: `${CLOSE_ERROR_PREFIX} InvalidDataException: ${result.error}`, allowReconnect: true })
    }
  }

  private ended(error: Error | undefined): void {
    if (this.state === 'closed') return
    const wasConnected = this.state === 'connected'
    this.state = 'closed'
    this.pending = undefined
    if (wasConnected) this.options.handler.onDisconnected(this, error ?? this.endError)
    this.options.onEnded?.(this)
  }
}

function join(head: string | Uint8Array, tail: string | Uint8Array): string | Uint8Array {
  if (typeof head === 'string' && typeof tail === 'string') return head + tail
  const a = typeof head === 'string' ? Buffer.from(head) : head
  const b = typeof tail === 'string' ? Buffer.from(tail) : tail
  return Buffer.concat([a, b])
}
