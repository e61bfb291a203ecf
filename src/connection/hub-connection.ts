/**
 * One client connection of a hub: the handshake, parsing incoming frames, sending, and closing
 * with the Close message SignalR clients expect. With stateful reconnect it also outlives a lost
 * WebSocket until the client comes back on a new one. Timers live in ConnectionSweeper, dispatch
 * in the InvocationHandler, the reconnect bookkeeping in MessageBuffer.
 */
import type { Principal } from '../auth/principal.js'
import { ImError, ImErrorCode } from '../errors.js'
import { writeHandshakeResponse } from '../protocol/handshake.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { CLOSE_ERROR_PREFIX, MessageType, TransferFormat } from '../protocol/messages.js'
import type { HubMessage } from '../protocol/messages.js'
import type { ServerTransport } from '../transports/transport.js'
import type { MoveOffer, MoveState } from './connection-move.js'
import type { OpeningRequest } from './opening-request.js'
import { handshakeStep } from './handshake-step.js'
import { joinInput } from './input-join.js'
import { isTracked, MessageBuffer } from './message-buffer.js'
import { HARD_BOUND_FACTOR, isPast, slowConsumerError } from './outbound-bound.js'

import type { ConnectionSettings, HubConnectionOptions } from './connection-options.js'

export type { ConnectionSettings, HubConnectionOptions } from './connection-options.js'
export type ConnectionState = 'handshake' | 'connected' | 'closed'

export class HubConnection {
  readonly connectionId: string
  readonly principal: Principal
  readonly createdAt = Date.now()
  state: ConnectionState = 'handshake'
  /** Updated on every message received; read by the sweeper for the client timeout. */
  lastReceivedAt = this.createdAt
  /** Last send the sweeper knows of (a ping, or a sweep that found `wrote`): it pings only quiet connections. */
  lastPingAt = this.createdAt
  /** Set on every write; the sweeper clears it and counts that tick as a send (as ASP.NET Core's KeepAliveTick). */
  wrote = false
  private selectedProtocol: HubProtocol | undefined
  private binary = false
  private pending: string | Uint8Array | undefined
  private endError: Error | undefined
  private currentTransport: ServerTransport
  /** The request that opened the current transport (see opening-request.ts). */
  private openingRequest: OpeningRequest | undefined
  private buffer: MessageBuffer | undefined
  /** Set while the transport is lost and a stateful reconnect may still come. */
  detachedAt: number | undefined
  private closingSlow = false
  private overBoundSince: number | undefined
  /** True once the connection has moved to another node (it ended here without ending). */
  moved = false
  /**
   * Set while the server holds back reading from the client (its stream buffers are full): the
   * client is not silent then, we are not listening, so the client timeout does not run.
   */
  receivingHeld = false

  private readonly settings: ConnectionSettings
  private readonly stateful: boolean
  /** When the access token of this connection expires (ms since the epoch), if it does. */
  readonly expiresAt: number | undefined

  constructor(options: HubConnectionOptions) {
    this.connectionId = options.connectionId
    this.principal = options.principal
    this.expiresAt = options.expiresAt
    this.settings = options.settings
    this.stateful = options.stateful === true
    this.currentTransport = options.transport
    this.openingRequest = options.request
    this.listen(options.transport)
    if (options.movingIn) {
      const protocol = options.settings.protocols.get(options.movingIn.protocol)
      if (!protocol) throw new ImError(ImErrorCode.InvalidPayload, `the connection moving in names an unknown hub protocol ${JSON.stringify(options.movingIn.protocol)}`)
      this.selectedProtocol = protocol
      this.binary = protocol.transferFormat === TransferFormat.Binary
      this.state = 'connected'
      this.detachedAt = Date.now()
      this.buffer = MessageBuffer.collecting(options.settings.statefulReconnectBufferSize)
    }
  }

  get transport(): ServerTransport {
    return this.currentTransport
  }

  get request(): OpeningRequest | undefined {
    return this.openingRequest
  }

  get userId(): string | undefined {
    return this.principal.userId
  }

  /** The hub protocol chosen in the handshake. */
  get protocol(): HubProtocol {
    if (!this.selectedProtocol) throw new ImError(ImErrorCode.InvalidOperation, 'the handshake has not completed')
    return this.selectedProtocol
  }

  receive(data: string | Uint8Array): void {
    if (this.state === 'closed') return
    this.lastReceivedAt = Date.now()
    const input = this.pending === undefined ? data : joinInput(this.pending, data)
    this.pending = undefined
    if (this.state === 'handshake') this.receiveHandshake(input)
    else this.receiveMessages(input)
  }

  /**
   * Stops (true) or resumes (false) reading from the client, where the transport can: the data
   * waits in the kernel and in the client. On resume the client timeout starts afresh.
   */
  holdReceiving(held: boolean): void {
    if (held === this.receivingHeld) return
    this.receivingHeld = held
    if (!held) this.lastReceivedAt = Date.now()
    this.currentTransport.holdReceiving?.(held)
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
    if (this.buffer) this.sendTracked(frame, true)
    else this.write(frame)
  }

  sendPing(): void {
    this.lastPingAt = Date.now()
    this.send({ type: MessageType.Ping })
    this.wrote = false
  }

  /** Sends an Ack for what arrived since the last one (stateful reconnect; the sweeper calls this every tick). */
  sendAck(): void {
    const sequenceId = this.buffer?.dueAck()
    if (sequenceId !== undefined) this.send({ type: MessageType.Ack, sequenceId })
  }

  /**
   * True when the client negotiated stateful reconnect: `resume` may replace its transport, also
   * one that still looks alive (the client may notice a dead socket first; ASP.NET Core swaps too).
   */
  get canResume(): boolean {
    return this.state === 'connected' && this.buffer !== undefined && !this.buffer.isCollecting && !this.moved
  }

  /**
   * The client is back on a new transport after a stateful reconnect: tell it where our messages
   * resume (Sequence), replay what it has not acknowledged, and go on (HubProtocol.md).
   */
  resume(transport: ServerTransport, request?: OpeningRequest): void {
    if (!this.canResume || !this.buffer) return transport.close()
    const old = this.currentTransport
    this.currentTransport = transport
    // As ASP.NET Core, the reconnect's request becomes the connection's.
    if (request) this.openingRequest = request
    this.listen(transport)
    if (this.receivingHeld) transport.holdReceiving?.(true)
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
    if (options.error) this.endError = new ImError(ImErrorCode.ConnectionClosed, options.error)
    this.transport.close()
    this.ended(undefined)
  }

  /**
   * The node is draining: end the WebSocket without a Close message, so that the client's
   * stateful reconnect comes back (to another node, which takes the connection over). False,
   * and nothing done, for a connection that cannot resume.
   */
  suspend(): boolean {
    if (!this.canResume || this.transport.name !== 'WebSockets') return false
    this.detachedAt ??= Date.now()
    this.letTransportGo()
    return true
  }

  /** Step 1 of a move away (connection-move.ts); undefined when this connection cannot move. */
  offerMove(groups: readonly string[]): MoveOffer | undefined {
    if (!this.canResume) return undefined
    this.buffer!.markForMove()
    return { connectionId: this.connectionId, protocol: this.protocol.name, groups }
  }

  /**
   * Step 2 of a move away: hands over the state and ends here without the client or the
   * services hearing of it (the connection lives on elsewhere). Undefined without an offer first.
   */
  moveAway(groups: readonly string[], streams: readonly string[]): MoveState | undefined {
    const mark = this.buffer?.moveMark
    if (mark === undefined || !this.canResume) return undefined
    const state: MoveState = { buffer: this.buffer!.state(), mark, groups, streams }
    this.letTransportGo()
    this.endMoved()
    return state
  }

  /** Closes the transport as a server that leaves (1001), no longer hearing from it. */
  private letTransportGo(): void {
    this.currentTransport.onClose = this.currentTransport.onMessage = undefined
    this.currentTransport.close({ goingAway: true })
  }

  /**
   * The old node's state has come: its unacknowledged frames go first, then what was collected
   * here that it had not sent, then an error for each stream that could not move. The client
   * gets them all after its Sequence (see resume).
   */
  completeMove(state: MoveState): void {
    if (!this.buffer?.isCollecting || this.state !== 'connected') return
    if (!this.buffer.adopt(state.buffer, state.mark)) return this.closeBufferFull()
    for (const invocationId of state.streams) {
      this.send({ type: MessageType.Completion, invocationId, error: 'The stream ended: the connection moved to another server.' })
    }
  }

  /** The move here failed (the old node did not answer): end without anyone hearing of it. */
  abandonMove(): void {
    if (this.buffer?.isCollecting && this.state !== 'closed') this.endMoved()
  }

  /** Ends here for a connection that lives on elsewhere (or never arrived): nobody is told it ended. */
  private endMoved(): void {
    this.moved = true
    this.state = 'closed'
    this.settings.handler.onMovedAway(this)
    this.settings.onEnded?.(this)
  }

  /** The reconnect window has passed: end for good. */
  abandon(): void {
    this.ended(new ImError(ImErrorCode.ConnectionClosed, 'The client did not reconnect in time.'))
  }

  /** Fails the handshake with the given error text and ends the connection. */
  failHandshake(error: string): void {
    if (this.state !== 'handshake') return
    this.transport.send(writeHandshakeResponse(error), false)
    this.endError = new ImError(ImErrorCode.ConnectionClosed, error)
    this.transport.close()
    this.ended(undefined)
  }

  private receiveHandshake(input: string | Uint8Array): void {
    const step = handshakeStep(input, this.settings, this.transport.supportsBinary)
    if (step.kind === 'incomplete') {
      this.pending = input
      return
    }
    if (step.kind === 'refused') {
      this.settings.logger.debug('handshake refused', { connectionId: this.connectionId, detail: step.detail ?? step.error })
      return this.failHandshake(step.error)
    }
    this.selectedProtocol = step.protocol
    this.binary = step.protocol.transferFormat === TransferFormat.Binary
    // Stateful reconnect needs both the negotiate opt-in and handshake version 2 (HubConnectionContext).
    if (this.stateful && step.version >= 2) this.buffer = new MessageBuffer(this.settings.statefulReconnectBufferSize)
    // The reply travels in the protocol's own format: a binary frame for MessagePack (as .NET does).
    const reply = writeHandshakeResponse()
    this.transport.send(this.binary ? new TextEncoder().encode(reply) : reply, this.binary)
    this.state = 'connected'
    this.settings.handler.onConnected(this)
    if (step.rest !== undefined) this.receiveMessages(step.rest)
  }

  private receiveMessages(input: string | Uint8Array): void {
    const result = this.protocol.parseMessages(input, { maxMessageSize: this.settings.maximumReceiveMessageSize, measure: true })
    this.pending = result.rest
    const { messages, sizes } = result
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i]!
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
          this.settings.handler.onMessage(this, message, sizes![i]!)
      }
    }
    if (result.error !== undefined) {
      this.settings.onInvalidData?.()
      this.settings.logger.info('closing a connection that sent an invalid message', { connectionId: this.connectionId, detail: result.error })
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

  private sendTracked(frame: string | Uint8Array, shared = false): void {
    if (!this.buffer!.track(frame, shared)) return this.closeBufferFull()
    if (this.detachedAt === undefined) this.write(frame)
  }

  /** Past the bound the connection ends cleanly rather than the buffer growing without end. */
  private closeBufferFull(): void {
    this.close({ error: `${CLOSE_ERROR_PREFIX} The stateful reconnect buffer of ${this.settings.statefulReconnectBufferSize} bytes is full.`, allowReconnect: true })
  }

  /**
   * Hands a frame to the transport. A burst may pass the buffer bound for a moment (a healthy
   * client drains it within a sweep); a client past HARD_BOUND_FACTOR times the bound is closed at
   * once, so that memory stays bounded whatever the burst.
   */
  private write(frame: string | Uint8Array): void {
    this.wrote = true
    this.transport.send(frame, this.binary)
    if (isPast(this.transport, this.settings.maxBuffered, HARD_BOUND_FACTOR)) this.closeSlowConsumer()
  }

  /**
   * Called by the sweeper every tick: a client still past the buffer bound one tick after it was
   * first seen there is not keeping up, and is closed.
   */
  checkBackpressure(now: number): void {
    if (!isPast(this.transport, this.settings.maxBuffered)) this.overBoundSince = undefined
    else if (this.overBoundSince === undefined) this.overBoundSince = now
    else if (now > this.overBoundSince) this.closeSlowConsumer()
  }

  private closeSlowConsumer(): void {
    if (this.closingSlow || this.state !== 'connected') return
    this.closingSlow = true
    this.settings.onSlowConsumer?.()
    this.settings.logger.info('closing a connection whose client does not read', { connectionId: this.connectionId, bufferedBytes: this.transport.bufferedBytes })
    this.close({ error: slowConsumerError(this.settings.maxBuffered), allowReconnect: true })
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
    if (wasConnected) this.settings.handler.onDisconnected(this, error ?? this.endError)
    this.settings.onEnded?.(this)
  }
}
