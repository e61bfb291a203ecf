/**
 * An HTTP request that reached another node, carried over NATS to the node holding its
 * connection, and played there against the same handlers as a local one. The request is a
 * readable stream with the original method, URL and headers; the response is captured and
 * carried back. Only the parts of node:http the hub endpoint uses are provided. The wire form is
 * in src/cluster/control-messages.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'
import type { RelayedRequest, RelayedResponse } from '../cluster/control-messages.js'

/** Headers a hub endpoint reads; nothing else crosses between nodes. */
const FORWARDED = ['authorization', 'accept', 'content-type', 'user-agent', 'x-requested-with']

export function captureRequest(req: IncomingMessage, body: Buffer): RelayedRequest {
  const headers: Record<string, string> = {}
  for (const name of FORWARDED) {
    const value = req.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers, body: body.toString('base64') }
}

/** A request object for the handlers, from its wire form. */
export function replayRequest(relayed: RelayedRequest): IncomingMessage {
  const body = Buffer.from(relayed.body, 'base64')
  const req = Readable.from(body.length > 0 ? [body] : [])
  return Object.assign(req, {
    method: relayed.method,
    url: relayed.url,
    headers: relayed.headers,
    socket: { remoteAddress: '127.0.0.1' },
  }) as unknown as IncomingMessage
}

/** A response object for the handlers that records what they answer. */
export class CapturedResponse {
  statusCode = 200
  headersSent = false
  readonly socket = { setNoDelay(): void {} }
  readonly done: Promise<RelayedResponse>
  private readonly headers: Record<string, string> = {}
  private readonly chunks: Buffer[] = []
  private finish!: (response: RelayedResponse) => void

  constructor() {
    this.done = new Promise((resolve) => (this.finish = resolve))
  }

  get asServerResponse(): ServerResponse {
    return this as unknown as ServerResponse
  }

  setHeader(name: string, value: string | number): this {
    this.headers[name.toLowerCase()] = String(value)
    return this
  }

  writeHead(status: number, headers: Record<string, string | number> = {}): this {
    this.statusCode = status
    for (const [name, value] of Object.entries(headers)) this.setHeader(name, value)
    this.headersSent = true
    return this
  }

  write(chunk: string | Uint8Array): boolean {
    this.headersSent = true
    this.chunks.push(Buffer.from(chunk))
    return true
  }

  end(chunk?: string | Uint8Array): this {
    if (chunk !== undefined) this.write(chunk)
    const body = Buffer.concat(this.chunks)
    delete this.headers['content-length']
    this.finish({ status: this.statusCode, headers: this.headers, body: body.toString('base64') })
    return this
  }

  on(): this {
    return this
  }
}

/** Writes a relayed response to the real one. */
export function sendRelayed(res: ServerResponse, relayed: RelayedResponse): void {
  const body = Buffer.from(relayed.body, 'base64')
  res.writeHead(relayed.status, { ...relayed.headers, 'content-length': String(body.length) }).end(body)
}
