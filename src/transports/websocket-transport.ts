/** The WebSockets transport over a `ws` socket (TransportProtocols.md, WebSockets). */
import type { WebSocket } from 'ws'
import type { ServerTransport } from './transport.js'
import { TransportName } from './transport.js'

/** Close codes from RFC 6455 that the SignalR clients understand. */
const NORMAL_CLOSURE = 1000

export class WebSocketTransport implements ServerTransport {
  readonly name = TransportName.WebSockets
  readonly supportsBinary = true
  onMessage: ((data: string | Uint8Array) => void) | undefined
  onClose: ((error?: Error) => void) | undefined
  private closed = false

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      // Text frames carry JSON (and the handshake of every protocol); binary frames MessagePack.
      const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? Buffer.from(data) : data
      this.onMessage?.(isBinary ? bytes : bytes.toString('utf8'))
    })
    // 1005: the client closed without a code, as the SignalR JS client's stop() does.
    socket.on('close', (code) => this.ended(code === NORMAL_CLOSURE || code === 1005 ? undefined : new Error(`WebSocket closed with status code ${code}`)))
    socket.on('error', (error) => {
      this.ended(error)
      socket.terminate()
    })
  }

  /** Bytes written to the socket but not yet sent to the peer. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount
  }

  send(data: string | Uint8Array, binary: boolean): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    this.socket.send(data, { binary })
  }

  close(): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(NORMAL_CLOSURE)
  }

  private ended(error?: Error): void {
    if (this.closed) return
    this.closed = true
    this.onClose?.(error)
  }
}
