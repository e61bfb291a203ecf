/**
 * One client connection of a hub, and the one owner of its state: the lifecycle it extends
 * (connection-lifecycle.ts: handshaking, open, detached, moving in, closed, moved away), the
 * transport it writes to, the protocol, the keep-alive clocks and, with stateful reconnect, the
 * MessageBuffer. Others read it and ask it to act: the sweeper each tick, the hub endpoint on a
 * resume or at drain, the locator for a move. Hub messages are dispatched by the InvocationHandler.
 */
import type { Principal } from '../auth/principal.js'
import { ImError, ImErrorCode } from '../errors.js'
import { writeHandshakeResponse } from '../protocol/handshake.js'
import type { HubProtocol } from '../protocol/hub-protocol.js'
import { CLOSE_ERROR_PREFIX, MessageType, TransferFormat } from '../protocol/messages.js'
import type { HubMessage } from '../protocol/messages.js'
import type { ServerTransport } from '../transports/transport.js'
import { ConnectionLifecycle, ConnectionState } from './connection-lifecycle.js'
import type { MoveOffer, MoveState } from './connection-move.js'
import type { OpeningRequest } from './opening-request.js'
import { handleClientMessages } from './client-messages.js'
import { handshakeStep } from './handshake-step.js'
import { joinInput } from './input-join.js'
import { KeepAlive } from './keep-alive.js'
import { isTracked, MessageBuffer } from './message-buffer.js'
import { HARD_BOUND_FACTOR, isPast, slowConsumerError, SlowConsumerWatch } from './outbound-bound.js'
import type { ConnectionSettings, HubConnectionOptions } from './connection-options.js'

export type { ConnectionSettings, HubConnectionOptions } from './connection-options.js'
export { ConnectionState } from './connection-lifecycle.js'

const { Handshaking, Open, Detached, MovingIn, Closed, MovedAway } = ConnectionState

export class HubConnection extends ConnectionLifecycle {
  readonly connectionId: string
  readonly principal: Principal
  readonly createdAt: number
  /** When the access token of this connection expires (ms since the epoch), if it does. */
  readonly expiresAt: number | undefined
  private readonly keepAlive: KeepAlive
  /** Made when the transport is first seen past its bound: a client that keeps up never needs one. */
  private slow: SlowConsumerWatch | undefined
  /** The start of a message whose rest has not arrived yet. */
  private pending: string | Uint8Array | undefined
  private selectedProtocol: HubProtocol | undefined
  private binary = false
  private endError: Error | undefined
  private currentTransport: ServerTransport
  /** The request that opened the current transport (see opening-request.ts). */
  private openingRequest: OpeningRequest | undefined
  /** Set once the handshake (or a move here) has settled on stateful reconnect. */
  private buffer: MessageBuffer | undefined
  private readonly settings: ConnectionSettings
  private readonly stateful: boolean

  constructor(options: HubConnectionOptions) {
    const now = options.settings.clock?.() ?? Date.now()
    super(options.movingIn ? MovingIn : Handshaking, now)
    this.connectionId = options.connectionId
    this.principal = options.principal
    this.expiresAt = options.expiresAt
    this.settings = options.settings
    this.stateful = options.stateful === true
    this.currentTransport = options.transport
    this.openingRequest = options.request
    this.createdAt = now
    this.keepAlive = new KeepAlive(now)
    this.listen(options.transport)
    if (!options.movingIn) return
    const protocol = options.settings.protocols.get(options.movingIn.protocol)
    if (!protocol) throw new ImError(ImErrorCode.InvalidPayload, `the connection moving in names an unknown hub protocol ${JSON.stringify(options.movingIn.protocol)}`)
    this.useProtocol(protocol)
    this.buffer = new MessageBuffer(options.settings.statefulReconnectBufferSize)
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
    if (this.isEnded) return
    this.keepAlive.heard(this.now())
    const input = this.pending === undefined ? data : joinInput(this.pending, data)
    this.pending = undefined
    if (this.state === Handshaking) this.receiveHandshake(input)
    else this.receiveMessages(input)
  }

  /**
   * Stops (true) or resumes (false) reading from the client, where the transport can: the data
   * waits in the kernel and in the client. On resume the client timeout starts afresh.
   */
  holdReceiving(held: boolean): void {
    if (this.keepAlive.hold(held, this.now())) this.currentTransport.holdReceiving?.(held)
  }

  /** Serializes and sends one message. */
  send(message: HubMessage): void {
    if (this.isConnected) this.emit(this.protocol.writeMessage(message), isTracked(message), false)
  }

  /** Sends an Invocation already serialized with this connection's protocol (a broadcast, say). */
  sendFrame(frame: string | Uint8Array): void {
    if (this.isConnected) this.emit(frame, true, true)
  }

  /** At a sweep: sends a Ping when nothing has gone out for `intervalMs` (ASP.NET Core's KeepAliveTick). */
  keepAliveTick(now: number, intervalMs: number): void {
    if (!this.keepAlive.pingDue(now, intervalMs)) return
    this.send({ type: MessageType.Ping })
    this.keepAlive.pinged(now)
  }

  /** True when the client sent nothing for `timeoutMs` while the server was reading. */
  isSilent(now: number, timeoutMs: number): boolean {
    return this.keepAlive.silent(now, timeoutMs)
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
    const state = this.state
    return this.buffer !== undefined && (state === Open || state === Detached)
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
    if (this.keepAlive.receivingHeld) transport.holdReceiving?.(true)
    // The old transport's events are ignored from now on (see listen).
    old.close()
    const now = this.now()
    if (this.state === Detached) this.enter(Open, now)
    this.keepAlive.heard(now)
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
    if (this.isEnded) return
    if (this.isConnected) {
      this.send({ type: MessageType.Close, error: options.error, allowReconnect: options.allowReconnect })
    }
    if (options.error) this.endError = new ImError(ImErrorCode.ConnectionClosed, options.error)
    this.currentTransport.close()
    this.ended(undefined)
  }

  /**
   * The node is draining: end the WebSocket without a Close message, so that the client's
   * stateful reconnect comes back (to another node, which takes the connection over). False,
   * and nothing done, for a connection that cannot resume.
   */
  suspend(): boolean {
    if (!this.canResume || this.currentTransport.name !== 'WebSockets') return false
    if (this.state === Open) this.enter(Detached, this.now())
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
    if (this.state !== MovingIn) return
    if (!this.buffer!.adopt(state.buffer, state.mark)) return this.closeBufferFull()
    this.enter(Detached, this.now())
    for (const invocationId of state.streams) {
      this.send({ type: MessageType.Completion, invocationId, error: 'The stream ended: the connection moved to another server.' })
    }
  }

  /** The move here failed (the old node did not answer): end without anyone hearing of it. */
  abandonMove(): void {
    if (this.state === MovingIn) this.endMoved()
  }

  /** Ends here for a connection that lives on elsewhere (or never arrived): nobody hears it end. */
  private endMoved(): void {
    if (!this.enter(MovedAway, this.now())) return
    this.settings.handler.onMovedAway(this)
    this.settings.onEnded?.(this)
  }

  /** The reconnect window has passed: end for good. */
  abandon(): void {
    this.ended(new ImError(ImErrorCode.ConnectionClosed, 'The client did not reconnect in time.'))
  }

  /** Fails the handshake with the given error text and ends the connection (the sweeper's handshake timeout). */
  failHandshake(error: string): void {
    if (this.state !== Handshaking) return
    this.currentTransport.send(writeHandshakeResponse(error), false)
    this.endError = new ImError(ImErrorCode.ConnectionClosed, error)
    this.currentTransport.close()
    this.ended(undefined)
  }

  private receiveHandshake(input: string | Uint8Array): void {
    const step = handshakeStep(input, this.settings, this.currentTransport.supportsBinary)
    if (step.kind === 'incomplete') {
      this.pending = input
      return
    }
    if (step.kind === 'refused') {
      this.settings.logger.debug('handshake refused', { connectionId: this.connectionId, detail: step.detail ?? step.error })
      return this.failHandshake(step.error)
    }
    if (!this.enter(Open, this.now())) return
    this.useProtocol(step.protocol)
    // Stateful reconnect needs both the negotiate opt-in and handshake version 2 (HubConnectionContext).
    if (this.stateful && step.version >= 2) this.buffer = new MessageBuffer(this.settings.statefulReconnectBufferSize)
    // The reply travels in the protocol's own format: a binary frame for MessagePack (as .NET does).
    const reply = writeHandshakeResponse()
    this.currentTransport.send(this.binary ? new TextEncoder().encode(reply) : reply, this.binary)
    this.settings.handler.onConnected(this)
    if (step.rest !== undefined) this.receiveMessages(step.rest)
  }

  private receiveMessages(input: string | Uint8Array): void {
    const parsed = this.protocol.parseMessages(input, { maxMessageSize: this.settings.maximumReceiveMessageSize, measure: true })
    this.pending = parsed.rest
    handleClientMessages(this, this.buffer, parsed, this.settings)
  }

  private useProtocol(protocol: HubProtocol): void {
    this.selectedProtocol = protocol
    this.binary = protocol.transferFormat === TransferFormat.Binary
  }

  private listen(transport: ServerTransport): void {
    transport.onMessage = (data) => {
      if (transport === this.currentTransport) this.receive(data)
    }
    transport.onClose = (error) => {
      if (transport === this.currentTransport) this.transportEnded(error)
    }
  }

  /**
   * With stateful reconnect a tracked frame is buffered until acknowledged; it is written only
   * while a transport is attached (open), and replayed on resume otherwise.
   */
  private emit(frame: string | Uint8Array, tracked: boolean, shared: boolean): void {
    if (tracked && this.buffer && !this.buffer.track(frame, shared)) return this.closeBufferFull()
    if (this.state === Open) this.write(frame)
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
    this.keepAlive.written()
    this.currentTransport.send(frame, this.binary)
    if (isPast(this.currentTransport, this.settings.maxBuffered, HARD_BOUND_FACTOR)) this.closeSlowConsumer()
  }

  /**
   * Called by the sweeper every tick: a client still past the buffer bound one tick after it was
   * first seen there is not keeping up, and is closed.
   */
  checkBackpressure(now: number): void {
    const past = isPast(this.currentTransport, this.settings.maxBuffered)
    if (!past && !this.slow) return
    if ((this.slow ??= new SlowConsumerWatch()).stillPast(past, now)) this.closeSlowConsumer()
  }

  private closeSlowConsumer(): void {
    if (!this.isConnected || !(this.slow ??= new SlowConsumerWatch()).trip()) return
    this.settings.onSlowConsumer?.()
    this.settings.logger.info('closing a connection whose client does not read', { connectionId: this.connectionId, bufferedBytes: this.currentTransport.bufferedBytes })
    this.close({ error: slowConsumerError(this.settings.maxBuffered), allowReconnect: true })
  }

  /**
   * A lost transport ends the connection, unless stateful reconnect is on and the loss was not a
   * clean close: then the connection waits for the client to come back (ASP.NET Core's
   * HttpConnectionDispatcher keeps it as inactive for the disconnect timeout).
   */
  private transportEnded(error: Error | undefined): void {
    if (this.buffer && error && this.isConnected) {
      if (this.state === Open) this.enter(Detached, this.now())
      return
    }
    this.ended(error)
  }

  private ended(error: Error | undefined): void {
    const wasConnected = this.isConnected
    if (!this.enter(Closed, this.now())) return
    this.pending = undefined
    if (wasConnected) this.settings.handler.onDisconnected(this, error ?? this.endError)
    this.settings.onEnded?.(this)
  }

  private now(): number {
    return this.settings.clock?.() ?? Date.now()
  }
}
