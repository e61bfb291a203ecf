/**
 * The chaos suite's SignalR client, for the large counts: the official client costs too much CPU
 * per connection on a 2-core box to run hundreds beside the server. It opens its connection with
 * the bench's one raw SignalR connection (raw-client.ts `openSignalR`), negotiating first when
 * asked, answers keep-alive, reads Invocation/Completion/Close records and, when asked, reconnects
 * the way `withAutomaticReconnect()` does (first retry at once), recording each gap so that
 * messages sent while it had no connection can be told from messages lost while it had one.
 */
import WebSocket from 'ws'
import { PING } from './protocol.js'
import { openSignalR } from './raw-client.js'

const RS = '\u001e'
/** Under the server's 30 s client timeout with room to spare. */
const PING_EVERY_MS = 10_000
const CONNECT_TIMEOUT_MS = 10_000
const RETRY_DELAYS_MS = [0, 100, 250, 500, 1000, 2000]

export interface ReconnectingClientOptions {
  /** `http://host:port/signalr-hubs/default` */
  readonly hubUrl: string
  readonly token?: string
  /** POST negotiate first and open the socket with its connection token (else skipNegotiation). */
  readonly negotiate?: boolean
  readonly reconnect?: boolean
  readonly onInvocation?: (target: string, args: readonly unknown[]) => void
  readonly onCompletion?: (invocationId: string, error: string | undefined) => void
}

export interface Gap {
  /** performance.now() when the connection was seen to drop. */
  readonly from: number
  /** when the next handshake completed; undefined while still down. */
  to?: number
}

export class ReconnectingClient {
  ws: WebSocket | undefined
  /** Drops seen (a Close message or the socket ending) while we meant to stay connected. */
  drops = 0
  readonly gaps: Gap[] = []
  readonly closeErrors: string[] = []
  /** Why reconnect attempts failed (each attempt that did). */
  readonly failedAttempts: string[] = []
  private stopped = false
  private pinger: NodeJS.Timeout | undefined
  private nextId = 0

  constructor(readonly options: ReconnectingClientOptions) {}

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN && !this.down
  }

  private down = true

  /** Opens and handshakes; rejects when the server refuses or does not answer in time. */
  async connect(): Promise<void> {
    const ws = await openHub(this.options)
    this.attach(ws)
  }

  /** Sends an Invocation without waiting for its Completion; returns its id. */
  invoke(target: string, args: readonly unknown[]): string {
    const invocationId = String(++this.nextId)
    this.ws?.send(JSON.stringify({ type: 1, invocationId, target, arguments: args }) + RS)
    return invocationId
  }

  /** Bytes the socket has not written yet (for a flooding client to pace itself against). */
  get bufferedAmount(): number {
    return this.ws?.bufferedAmount ?? 0
  }

  /** Stops reading from the socket: the kernel buffers fill, then the server's. */
  pauseReading(): void {
    ;(this.ws as unknown as { _socket?: { pause(): void } } | undefined)?._socket?.pause()
  }

  /** Ends the connection abruptly: no Close message, no WebSocket close frame; RST when `reset`. */
  terminate(reset = false): void {
    this.stopped = true
    this.stopPinging()
    const socket = (this.ws as unknown as { _socket?: { resetAndDestroy?(): void } } | undefined)?._socket
    if (reset && socket?.resetAndDestroy) socket.resetAndDestroy()
    else this.ws?.terminate()
  }

  /** A clean stop: no reconnect. */
  close(): void {
    this.stopped = true
    this.stopPinging()
    this.ws?.close()
  }

  private attach(ws: WebSocket): void {
    this.ws = ws
    this.down = false
    const gap = this.gaps.at(-1)
    if (gap && gap.to === undefined) gap.to = performance.now()
    ws.on('message', (data) => this.read(data.toString()))
    ws.on('error', () => undefined)
    ws.once('close', () => this.dropped())
    this.stopPinging()
    this.pinger = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send(PING), PING_EVERY_MS)
  }

  private read(text: string): void {
    for (const record of text.split(RS)) {
      if (record.length === 0) continue
      let message: { type?: number; target?: string; arguments?: unknown[]; invocationId?: string; error?: string }
      try {
        message = JSON.parse(record)
      } catch {
        continue
      }
      if (message.type === 1) this.options.onInvocation?.(message.target ?? '', message.arguments ?? [])
      else if (message.type === 3) this.options.onCompletion?.(message.invocationId ?? '', message.error)
      else if (message.type === 7) {
        this.closeErrors.push(message.error ?? '(no error)')
        this.dropped()
      }
    }
  }

  private dropped(): void {
    if (this.down) return
    this.down = true
    this.stopPinging()
    this.ws?.terminate()
    if (this.stopped) return
    this.drops++
    this.gaps.push({ from: performance.now() })
    if (this.options.reconnect) void this.reconnect()
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length - 1)]!
      if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay))
      if (this.stopped) return
      try {
        const ws = await openHub(this.options)
        if (this.stopped) return void ws.terminate()
        return this.attach(ws)
      } catch (error) {
        // the next delay, as the official client's retry policy does
        this.failedAttempts.push(error instanceof Error ? error.message : String(error))
      }
    }
  }

  private stopPinging(): void {
    if (this.pinger) clearInterval(this.pinger)
    this.pinger = undefined
  }
}

async function openHub(options: ReconnectingClientOptions): Promise<WebSocket> {
  const query = new URLSearchParams()
  if (options.negotiate) {
    const res = await fetch(`${options.hubUrl}/negotiate?negotiateVersion=1`, {
      method: 'POST',
      headers: options.token ? { Authorization: `Bearer ${options.token}` } : {},
      signal: AbortSignal.timeout(CONNECT_TIMEOUT_MS),
    })
    if (res.status !== 200) throw new Error(`negotiate answered ${res.status}`)
    query.set('id', ((await res.json()) as { connectionToken: string }).connectionToken)
  }
  if (options.token) query.set('access_token', options.token)
  const qs = query.toString()
  const { ws } = await openSignalR(`${options.hubUrl.replace(/^http/, 'ws')}${qs ? `?${qs}` : ''}`, CONNECT_TIMEOUT_MS)
  return ws
}
