/**
 * Long polling (TransportProtocols.md, Long Polling): the client holds one GET open; whatever the
 * server has queued goes out as that response's body, whole frames only. The first poll answers
 * at once and opens the connection. A poll that waits `longPollTimeoutMs` gets an empty 200 and the
 * client polls again; a newer poll ends the older one with 204; a closed connection ends its poll
 * with 204. A client that stops polling for `longPollIdleTimeoutMs` is gone. A waiting poll is
 * answered at the server's flush point (ClientWrites), with everything sent until then.
 *
 * A server that ends the connection while no poll is waiting keeps its last messages (the Close,
 * with its error and allowReconnect) for the client's next poll, as ASP.NET Core does; the poll
 * after that gets 204. It waits for that poll no longer than `longPollIdleTimeoutMs`.
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
  /** Resolves once ended and the last poll has taken what was kept for it (or the wait for it passed). */
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
    if (this.isClosed) return this.lastPoll(res)
    clearTimeout(this.idleTimer)
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

  /**
   * The server ends the connection: the waiting poll takes what was sent until now, or gets 204
   * when nothing was; with no poll waiting, the next one takes it (see `lastPoll`).
   */
  close(): void {
    this.ended(true)
  }

  /** The client ends the connection (DELETE): the waiting poll gets 204, and nothing more goes out. */
  terminate(): void {
    this.ended(false)
  }

  /** A poll after the end: the messages kept for it, then 204 for good. */
  private lastPoll(res: ServerResponse): void {
    if (this.queue.length === 0) return end(res, 204)
    this.flushTo(res)
    this.finished()
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
    // A client that stopped polling takes nothing more: what waits for it is dropped.
    this.idleTimer = setTimeout(() => this.ended(false), this.options.longPollIdleTimeoutMs)
    this.idleTimer.unref()
  }

  /** `keepForNextPoll`: with no poll waiting, what is queued waits for the next one. */
  private ended(keepForNextPoll: boolean): void {
    if (this.isClosed) return
    this.isClosed = true
    this.receiving.close()
    clearTimeout(this.idleTimer)
    // What was sent before the close and not yet flushed still goes to the waiting poll.
    this.releaseWrites()
    this.finishPoll(204)
    if (keepForNextPoll && this.queue.length > 0) {
      // Bounded like an idle client: one that does not poll again in that time never will.
      this.idleTimer = setTimeout(() => this.finished(), this.options.longPollIdleTimeoutMs)
      this.idleTimer.unref()
    } else {
      this.finished()
    }
    this.onClose?.()
  }

  /** Nothing more goes to the client: `closed` resolves. */
  private finished(): void {
    clearTimeout(this.idleTimer)
    this.queue = []
    this.queuedBytes = 0
    this.resolveClosed()
  }
}

function end(res: ServerResponse, status: number): void {
  if (!res.headersSent) res.writeHead(status, { ...NO_CACHE, 'Content-Type': 'application/octet-stream', 'Content-Length': 0 })
  res.end()
}
