/**
 * Long polling (TransportProtocols.md, Long Polling): the client holds one GET open; whatever the
 * server has queued goes out as that response's body, whole frames only. The first poll answers
 * at once and opens the connection. A poll that waits `longPollTimeoutMs` gets an empty 200 and the
 * client polls again; a newer poll ends the older one with 204; a closed connection ends its poll
 * with 204. A client that stops polling for `longPollIdleTimeoutMs` is gone. A waiting poll is
 * answered at the server's flush point (ClientWrites), with everything sent until then.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ClientWrites, HeldWrites } from './client-writes.js'
import { ReceiveGate } from './receive-gate.js'
import type { ServerTransport } from './transport.js'
import { TransportName } from './transport.js'

export interface LongPollingOptions {
  /** How long a poll waits for data before an empty 200 (ASP.NET Core: 90 s). */
  readonly longPollTimeoutMs: number
  /** How long without a poll before the connection counts as abandoned (ASP.NET Core: 15 s). */
  readonly longPollIdleTimeoutMs: number
}

const NO_CACHE = {
  'Cache-Control': 'no-cache, no-store',
  Pragma: 'no-cache',
  Expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
}

export class LongPollingTransport implements ServerTransport, HeldWrites {
  readonly name = TransportName.LongPolling
  readonly supportsBinary = true
  onMessage: ((data: string | Uint8Array) => void) | undefined
  onClose: ((error?: Error) => void) | undefined
  private queue: Buffer[] = []
  private queuedBytes = 0
  private waiting: ServerResponse | undefined
  private pollTimer: NodeJS.Timeout | undefined
  private idleTimer: NodeJS.Timeout | undefined
  private activated = false
  private isClosed = false
  /** A long poll holds nothing once closed: the last poll was answered (or is answered by close). */
  readonly closed: Promise<void>
  private resolveClosed!: () => void
  /** Turns for reading POST bodies (see ReceiveGate). */
  readonly receiving = new ReceiveGate()

  constructor(
    private readonly options: LongPollingOptions,
    private readonly writes: ClientWrites,
  ) {
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve))
  }

  get bufferedBytes(): number {
    return this.queuedBytes
  }

  /** Messages waiting for the next poll. */
  get bufferedMessages(): number {
    return this.queue.length
  }

  /** Handles one poll (GET). */
  poll(req: IncomingMessage, res: ServerResponse): void {
    clearTimeout(this.idleTimer)
    if (this.isClosed) return void end(res, 204)
    if (!this.activated) {
      // The first poll only opens the connection (HttpConnectionContext.TryActivateLongPollingConnection).
      this.activated = true
      end(res, 200)
      return this.startIdleTimer()
    }
    if (this.waiting) this.finishPoll(204)
    if (this.queue.length > 0) {
      this.flushTo(res)
      return this.startIdleTimer()
    }
    this.waiting = res
    this.pollTimer = setTimeout(() => this.finishPoll(200), this.options.longPollTimeoutMs)
    req.on('close', () => {
      // The client gave up on this poll (it aborts it when it stops): wait for the next one.
      if (this.waiting === res) {
        clearTimeout(this.pollTimer)
        this.waiting = undefined
        if (!this.isClosed) this.startIdleTimer()
      }
    })
  }

  /** Handles the body of a send (POST). */
  receive(body: string | Uint8Array): void {
    if (!this.isClosed) this.onMessage?.(body)
  }

  holdReceiving(held: boolean): void {
    this.receiving.hold(held)
  }

  send(data: string | Uint8Array): void {
    if (this.isClosed) return
    const chunk = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    this.queue.push(chunk)
    this.queuedBytes += chunk.length
    if (this.waiting) this.writes.hold(this)
  }

  /** The flush point: the waiting poll, if still there, takes everything queued. */
  releaseWrites(): void {
    const res = this.waiting
    if (!res || this.queue.length === 0) return
    this.waiting = undefined
    clearTimeout(this.pollTimer)
    this.flushTo(res)
    if (!this.isClosed) this.startIdleTimer()
  }

  /** The server ends the connection: the waiting poll (or the next one) gets 204. */
  close(): void {
    this.ended()
  }

  private flushTo(res: ServerResponse): void {
    const body = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue)
    this.queue = []
    this.queuedBytes = 0
    res.writeHead(200, { ...NO_CACHE, 'Content-Type': 'application/octet-stream', 'Content-Length': body.length }).end(body)
  }

  private finishPoll(status: 200 | 204): void {
    const res = this.waiting
    this.waiting = undefined
    clearTimeout(this.pollTimer)
    if (res) end(res, status)
    if (!this.isClosed) this.startIdleTimer()
  }

  private startIdleTimer(): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = setTimeout(() => this.ended(), this.options.longPollIdleTimeoutMs)
    this.idleTimer.unref()
  }

  private ended(): void {
    if (this.isClosed) return
    this.isClosed = true
    this.receiving.close()
    this.resolveClosed()
    clearTimeout(this.idleTimer)
    // What was sent before the close and not yet flushed still goes to the waiting poll.
    this.releaseWrites()
    this.finishPoll(204)
    this.queue = []
    this.queuedBytes = 0
    this.onClose?.()
  }
}

function end(res: ServerResponse, status: number): void {
  if (!res.headersSent) res.writeHead(status, { ...NO_CACHE, 'Content-Type': 'application/octet-stream', 'Content-Length': 0 })
  res.end()
}
