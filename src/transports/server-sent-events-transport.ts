/**
 * Server-Sent Events (TransportProtocols.md, Server-Sent Events): server-to-client frames as
 * `data:` events on one long GET; the client sends with POSTs. Text only: MessagePack cannot use it.
 * Events are held (corked) until the server's flush point (ClientWrites).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ClientWrites, HeldWrites } from './client-writes.js'
import { ReceiveGate } from './receive-gate.js'
import type { ServerTransport } from './transport.js'
import { TransportName } from './transport.js'

export class ServerSentEventsTransport implements ServerTransport, HeldWrites {
  readonly name = TransportName.ServerSentEvents
  readonly supportsBinary = false
  onMessage: ((data: string | Uint8Array) => void) | undefined
  onClose: ((error?: Error) => void) | undefined
  readonly closed: Promise<void>
  private ended_ = false
  /** Turns for reading POST bodies (see ReceiveGate). */
  readonly receiving = new ReceiveGate()

  constructor(
    req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly writes: ClientWrites,
  ) {
    this.closed = new Promise((resolve) => res.once('close', () => resolve()))
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-store',
      Pragma: 'no-cache',
      // Proxies must neither compress nor buffer a stream of events.
      'Content-Encoding': 'identity',
      'X-Accel-Buffering': 'no',
    })
    // A comment line at once, so that the client's EventSource opens now (ServerSentEventsServerTransport).
    res.write(':\r\n')
    res.socket?.setNoDelay(true)
    req.on('close', () => this.ended())
  }

  get bufferedBytes(): number {
    return this.res.writableLength
  }

  /** Handles the body of a send (POST). */
  receive(body: string | Uint8Array): void {
    if (!this.ended_) this.onMessage?.(body)
  }

  holdReceiving(held: boolean): void {
    this.receiving.hold(held)
  }

  send(data: string | Uint8Array): void {
    if (this.ended_) return
    if (this.writes.hold(this)) this.res.cork()
    this.res.write(formatEvent(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')))
  }

  releaseWrites(): void {
    this.res.uncork()
  }

  close(): void {
    if (!this.ended_) this.res.end()
    this.ended()
  }

  private ended(): void {
    if (this.ended_) return
    this.ended_ = true
    this.receiving.close()
    this.onClose?.()
  }
}

/**
 * One event: each line of the payload as a `data:` line, then a blank line (the client's
 * EventSource joins the lines with "\n"). JSON frames never hold a raw line feed, so the common
 * case is one line.
 */
export function formatEvent(payload: string): string {
  if (!payload.includes('\n')) return `data: ${payload}\r\n\r\n`
  let event = ''
  for (const line of payload.split('\n')) event += `data: ${line.endsWith('\r') ? line.slice(0, -1) : line}\r\n`
  return event + '\r\n'
}
