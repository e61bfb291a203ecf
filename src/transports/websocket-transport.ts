/**
 * The WebSockets transport over a `ws` socket (TransportProtocols.md, WebSockets). ws reads the
 * client's frames and runs the close handshake; our data frames are built once per payload
 * (ClientWrites.frame) and written to the TCP socket the upgrade came on, held until the flush
 * point (ClientWrites). Without compression ws queues nothing of its own, so its frames (pongs,
 * the close) and ours never interleave within a frame.
 */
import type { Duplex } from 'node:stream'
import type { ServerOptions, WebSocket } from 'ws'
import { ImError, ImErrorCode } from '../errors.js'
import type { ClientWrites, HeldWrites } from './client-writes.js'
import type { ServerTransport } from './transport.js'
import { TransportName } from './transport.js'

/** Close codes from RFC 6455 that the SignalR clients understand. */
const NORMAL_CLOSURE = 1000
const GOING_AWAY = 1001
/**
 * How long a closing peer may take to answer the close frame before its socket is destroyed: ws
 * would wait 30 s for a peer that stopped reading, and its buffers are ours until then.
 */
const CLOSE_TIMEOUT_MS = 3000

/**
 * The options of the WebSocketServer that accepts our sockets. `closeTimeout` is a ws 8.23 option
 * that @types/ws does not list yet.
 */
export function webSocketServerOptions(maxPayload: number): ServerOptions & { readonly closeTimeout: number } {
  return { noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload, closeTimeout: CLOSE_TIMEOUT_MS }
}

export class WebSocketTransport implements ServerTransport, HeldWrites {
  readonly name = TransportName.WebSockets
  readonly supportsBinary = true
  onMessage: ((data: string | Uint8Array) => void) | undefined
  onClose: ((error?: Error) => void) | undefined
  private ended_ = false
  /** Paused by pauseReceiving (a timed throttle). */
  private paused = false
  /** Held by holdReceiving (full stream buffers). */
  private held = false
  private closedPromise: Promise<void> | undefined

  /**
   * `tcp`: the socket the upgrade came on (ws's own, which it keeps private); `writes`: the
   * server's flush point.
   */
  constructor(
    private readonly socket: WebSocket,
    private readonly tcp: Duplex,
    private readonly writes: ClientWrites,
  ) {
    // Shared listeners that find the transport on the socket: three closures per connection
    // would cost more than the rest of this object.
    ;(socket as OwnedSocket)[TRANSPORT] = this
    socket.on('message', onSocketMessage)
    socket.on('close', onSocketClose)
    socket.on('error', onSocketError)
  }

  /** Text frames carry JSON (and the handshake of every protocol); binary frames MessagePack. */
  received(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data
    this.onMessage?.(isBinary ? bytes : bytes.toString('utf8'))
  }

  /** 1005: the client closed without a code, as the SignalR JS client's stop() does. */
  socketClosed(code: number): void {
    this.ended(code === NORMAL_CLOSURE || code === 1005 ? undefined : new ImError(ImErrorCode.ConnectionClosed, `WebSocket closed with status code ${code}`))
  }

  socketFailed(error: Error): void {
    this.ended(new ImError(ImErrorCode.ConnectionClosed, `WebSocket failed: ${error.message}`, { cause: error }))
    this.socket.terminate()
  }

  /**
   * The socket's close event comes after the close handshake: everything sent before it is out.
   * Made only when asked for (at shutdown), not for every connection.
   */
  get closed(): Promise<void> {
    this.closedPromise ??=
      this.socket.readyState === this.socket.CLOSED ? Promise.resolve() : new Promise((resolve) => this.socket.once('close', () => resolve()))
    return this.closedPromise
  }

  pauseReceiving(ms: number): void {
    if (this.paused || this.ended_) return
    this.paused = true
    this.socket.pause()
    setTimeout(() => {
      this.paused = false
      if (!this.ended_ && !this.held) this.socket.resume()
    }, ms).unref()
  }

  holdReceiving(held: boolean): void {
    if (this.held === held || this.ended_) return
    this.held = held
    if (held) this.socket.pause()
    else if (!this.paused) this.socket.resume()
  }

  get bufferedBytes(): number {
    return this.socket.bufferedAmount
  }

  send(data: string | Uint8Array, binary: boolean): void {
    if (this.ended_ || this.socket.readyState !== this.socket.OPEN) return
    if (this.writes.hold(this)) this.tcp.cork()
    this.tcp.write(this.writes.frame(data, binary))
  }

  releaseWrites(): void {
    this.tcp.uncork()
  }

  /** A peer that does not answer the close frame is cut off after CLOSE_TIMEOUT_MS (webSocketServerOptions). */
  close(options?: { readonly goingAway?: boolean }): void {
    if (this.socket.readyState !== this.socket.OPEN) return
    this.socket.close(options?.goingAway ? GOING_AWAY : NORMAL_CLOSURE)
  }

  private ended(error?: Error): void {
    if (this.ended_) return
    this.ended_ = true
    this.onClose?.(error)
  }
}

const TRANSPORT = Symbol('transport')
type OwnedSocket = WebSocket & { [TRANSPORT]: WebSocketTransport }

function onSocketMessage(this: WebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  ;(this as OwnedSocket)[TRANSPORT].received(data, isBinary)
}

function onSocketClose(this: WebSocket, code: number): void {
  ;(this as OwnedSocket)[TRANSPORT].socketClosed(code)
}

function onSocketError(this: WebSocket, error: Error): void {
  ;(this as OwnedSocket)[TRANSPORT].socketFailed(error)
}
