/**
 * One client connection of a hub: the handshake, parsing incoming frames, sending, and closing
 * with the Close message SignalR clients expect. With stateful reconnect it also outlives a lost
 * WebSocket until the client comes back on a new one. Timers live in ConnectionSweeper, dispatch
 * in the InvocationHandler, the reconnect bookkeeping in MessageBuffer.
 */
import type { Principal } from '../auth/principal.js'
import type { Logger } from '../logger.js'
import { HandshakeError, parseHandshakeRequest, writeHandshakeResponse } from '../protocol/handshake.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { CLOSE_ERROR_PREFIX, MessageType, TransferFormat } from '../protocol/messages.js'
import type { HubMessage } from '../protocol/messages.js'
import type { ServerTransport } from '../transports/transport.js'
import type { InvocationHandler } from './invocation-handler.js'
import { isTracked, MessageBuffer } from './message-buffer.js'

export type ConnectionState = 'handshake' | 'connected' | 'closed'

export interface HubConnectionOptions {
  readonly connectionId: string
  readonly principal: Principal
  /** When the principal's access token expires (ms since the epoch), if it does. */
  readonly expiresAt?: number
  readonly transport: ServerTransport
  /** Hub protocols by handshake name. */
  readonly protocols: ReadonlyMap<string, HubProtocol>
  readonly handler: InvocationHandler
  readonly maxMessageSize: number
  /**
   * A client that leaves more than this many bytes (or messages, where the transport counts them)
   * unread is closed: one slow client must not grow the server's memory.
   */
  readonly maxBuffered: { readonly bytes: number; readonly messages: number }
  readonly logger: Logger
  /** Called when the connection is closed for not reading (for metrics). */
  readonly onSlowConsumer?: () => void
  /**
   * Set when the client negotiated stateful reconnect: the buffer limit in bytes. It takes effect
   * if the handshake asks for protocol version 2 or more, as ASP.NET Core requires.
   */
  readonly statefulReconnectBufferSize?: number
  /** Called once when the connection has ended, after the handler heard of it. */
  readonly onEnded?: (connection: HubConnection) => void
}


/** How far past the buffer bound a burst may go before the client is closed at once. */
const HARD_BOUND_FACTOR = 8

export class HubConnection {
  readonly connectionId: string
  readonly principal: Principal
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
  private currentTransport: ServerTransport
  private buffer: MessageBuffer | undefined
  /** Set while the transport is lost and a stateful reconnect may still come. */
  detachedAt: number | undefined
  private closingSlow = false
  private overBoundSince: number | undefined

  constructor(private readonly options: HubConnectionOptions) {
    this.connectionId = options.connectionId
    this.principal = options.principal
    this.currentTransport = options.transport
    this.listen(options.transport)
  }

  get transport(): ServerTransport {
    return this.currentTransport
  }

  get userId(): string | undefined {
    return this.principal.userId
  }

  /** When the access token of this connection expires (ms since the epoch), if it does. */
  get expiresAt(): number | undefined {
    return this.options.expiresAt
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
    if (this.state !== 'connected') return
    const frame = this.protocol.writeMessage(message)
    if (this.buffer && isTracked(message)) this.sendTracked(frame)
    else if (this.detachedAt === undefined) this.write(frame)
  }

  /** Sends an Invocation already serialized with this connection's protocol (a broadcast, say). */
  sendFrame(frame: string | Uint8Array): void {
    if (this.state !== 'connected') return
    if (this.buffer) this.sendTracked(frame)
    else this.write(frame)
  }

  /** Reads nothing more from the client for `ms`, where the transport allows it. */
  throttle(ms: number): void {
    this.transport.pauseReceiving?.(ms)
  }

  sendPing(): void {
    this.lastPingAt = Date.now()
    this.send({ type: MessageType.Ping })
  }

  /** Sends an Ack for what arrived since the last one (stateful reconnect; the sweeper calls this every tick). */
  sendAck(): void {
    const sequenceId = this.buffer?.dueAck()
    if (sequenceId !== undefined) this.send({ type: MessageType.Ack, sequenceId })
  }

  /**
   * True when the client negotiated stateful reconnect: its transport may be replaced by
   * `resume`, also while the old one still looks alive to us (the client may notice a dead
   * socket before the server does; HttpConnectionContext swaps the pipes then too).
   */
  get canResume(): boolean {
    return this.state === 'connected' && this.buffer !== undefined
  }

  /**
   * The client is back on a new transport after a stateful reconnect: tell it where our messages
   * resume (Sequence), replay what it has not acknowledged, and go on (HubProtocol.md).
   */
  resume(transport: ServerTransport): void {
    if (!this.canResume || !this.buffer) return transport.close()
    const old = this.currentTransport
    this.currentTransport = transport
    this.listen(transport)
    // The old transport's events are ignored from now on (see listen).
    old.close()
    this.detachedAt = undefined
    this.lastReceivedAt = Date.now()
    this.pending = undefined
    const { sequenceId, frames } = this.buffer.replay()
    transport.send(this.protocol.writeMessage({ type: MessageType.Sequence, sequenceId }), this.binary)
    for (const frame of frames) transport.send(frame, this.binary)
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

  /** The reconnect window has passed: end for good. */
  abandon(): void {
    this.ended(new Error('The client did not reconnect in time.'))
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
    // Stateful reconnect needs both the negotiate opt-in and handshake version 2 (HubConnectionContext).
    const stateful = this.options.statefulReconnectBufferSize
    if (stateful !== undefined && parsed.version >= 2) this.buffer = new MessageBuffer(stateful)
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
      if (this.buffer && isTracked(message) && !this.buffer.accept()) continue
      switch (message.type) {
        case MessageType.Ping:
          break
        case MessageType.Ack:
          this.buffer?.ack(message.sequenceId)
          break
        case MessageType.Sequence:
          if (this.buffer && !this.buffer.resetReceiving(message.sequenceId)) {
            this.close({ error: `${CLOSE_ERROR_PREFIX} InvalidOperationException: Sequence ID greater than amount of messages we've received.` })
            return
          }
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

  private listen(transport: ServerTransport): void {
    transport.onMessage = (data) => {
      if (transport === this.currentTransport) this.receive(data)
    }
    transport.onClose = (error) => {
      if (transport === this.currentTransport) this.transportEnded(error)
    }
  }

  private sendTracked(frame: string | Uint8Array): void {
    if (!this.buffer!.track(frame)) {
      // Past the bound the connection ends cleanly rather than the buffer growing without end.
      this.close({ error: `${CLOSE_ERROR_PREFIX} The stateful reconnect buffer of ${this.options.statefulReconnectBufferSize} bytes is full.`, allowReconnect: true })
      return
    }
    if (this.detachedAt === undefined) this.write(frame)
  }

  /**
   * Hands a frame to the transport. A burst may pass the buffer bound for a moment (a healthy
   * client drains it within a sweep); a client past HARD_BOUND_FACTOR times the bound is closed at
   * once, so that memory stays bounded whatever the burst.
   */
  private write(frame: string | Uint8Array): void {
    const transport = this.transport
    transport.send(frame, this.binary)
    const { bytes, messages } = this.options.maxBuffered
    if (transport.bufferedBytes > bytes * HARD_BOUND_FACTOR || (transport.bufferedMessages ?? 0) > messages * HARD_BOUND_FACTOR) {
      this.closeSlowConsumer()
    }
  }

  /**
   * Called by the sweeper every tick: a client still past the buffer bound one tick after it was
   * first seen there is not keeping up, and is closed.
   */
  checkBackpressure(now: number): void {
    const transport = this.transport
    const { bytes, messages } = this.options.maxBuffered
    if (transport.bufferedBytes <= bytes && (transport.bufferedMessages ?? 0) <= messages) {
      this.overBoundSince = undefined
    } else if (this.overBoundSince === undefined) {
      this.overBoundSince = now
    } else if (now > this.overBoundSince) {
      this.closeSlowConsumer()
    }
  }

  private closeSlowConsumer(): void {
    if (this.closingSlow || this.state !== 'connected') return
    this.closingSlow = true
    const { bytes, messages } = this.options.maxBuffered
    this.options.onSlowConsumer?.()
    this.options.logger.info('closing a connection whose client does not read', { connectionId: this.connectionId, bufferedBytes: this.transport.bufferedBytes })
    this.close({
      error: `${CLOSE_ERROR_PREFIX} The client is not reading its messages: more than ${bytes} bytes or ${messages} messages are waiting.`,
      allowReconnect: true,
    })
  }

  /**
   * A lost transport ends the connection, unless stateful reconnect is on and the loss was not a
   * clean close: then the connection waits for the client to come back (ASP.NET Core's
   * HttpConnectionDispatcher keeps it as inactive for the disconnect timeout).
   */
  private transportEnded(error: Error | undefined): void {
    if (this.buffer && error && this.state === 'connected') {
      this.detachedAt = Date.now()
      return
    }
    this.ended(error)
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
