/**
 * A SignalR client made of a raw WebSocket and JSON protocol frames (`\u001e`-terminated), for
 * sending what the official client never would: thousands of stream ids, items for queued calls,
 * as fast as the socket takes them. Every wait is bounded.
 */
import WebSocket from 'ws'
import { withTimeout } from './clients.js'

const RS = '\u001e'

export interface RawCompletion {
  readonly invocationId: string
  readonly result?: unknown
  readonly error?: string
}

export class RawHubClient {
  private readonly completions = new Map<string, RawCompletion>()
  private waiters: Array<() => void> = []
  private partial = ''
  /** The Close message the server sent, if any. */
  closeMessage: { error?: string; allowReconnect?: boolean } | undefined
  readonly closed: Promise<void>

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()))
    ws.on('message', (data) => this.received(data.toString()))
  }

  /** Opens a WebSocket to a hub URL (http://...) and completes the JSON handshake. */
  static async connect(hubUrl: string): Promise<RawHubClient> {
    const ws = new WebSocket(hubUrl.replace(/^http/, 'ws'))
    await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'the socket to open')
    const client = new RawHubClient(ws)
    const handshake = withTimeout(new Promise<void>((resolve) => client.waiters.push(resolve)), 5000, 'the handshake response')
    ws.send(`{"protocol":"json","version":1}${RS}`)
    await handshake
    return client
  }

  /** Sends one hub message as a frame. */
  send(message: object): void {
    this.ws.send(JSON.stringify(message) + RS)
  }

  /**
   * Sends one frame, first waiting (at most until `deadline`) while more than `maxBuffered` bytes
   * wait in our socket: a server that stops reading makes them pile up here. False once the
   * deadline passed or the socket closed.
   */
  async sendPaced(frame: string, deadline: number, maxBuffered = 4 * 1024 * 1024): Promise<boolean> {
    while (this.ws.bufferedAmount > maxBuffered) {
      if (Date.now() >= deadline || this.ws.readyState !== WebSocket.OPEN) return false
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    if (this.ws.readyState !== WebSocket.OPEN) return false
    this.ws.send(frame)
    return Date.now() < deadline
  }

  /** The Completion of `invocationId`, waiting at most `timeoutMs`. */
  completion(invocationId: string, timeoutMs = 5000): Promise<RawCompletion> {
    return withTimeout(
      (async () => {
        for (;;) {
          const found = this.completions.get(invocationId)
          if (found) return found
          await new Promise<void>((resolve) => this.waiters.push(resolve))
        }
      })(),
      timeoutMs,
      `the completion of ${invocationId}`,
    )
  }

  close(): Promise<void> {
    this.ws.close()
    return withTimeout(this.closed, 5000, 'the socket to close')
  }

  private received(text: string): void {
    const frames = (this.partial + text).split(RS)
    this.partial = frames.pop() ?? ''
    for (const frame of frames) {
      const message = JSON.parse(frame) as { type?: number; invocationId?: string; result?: unknown; error?: string; allowReconnect?: boolean }
      if (message.type === 3 && message.invocationId !== undefined) this.completions.set(message.invocationId, message as RawCompletion)
      if (message.type === 7) this.closeMessage = { ...(message.error !== undefined ? { error: message.error } : {}), ...(message.allowReconnect ? { allowReconnect: true } : {}) }
    }
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
