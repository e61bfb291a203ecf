/** Small helpers for answering HTTP requests and refusing upgrades. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...headers }).end(text)
}

export function sendJson(res: ServerResponse, status: number, body: string | object): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(text)
}

/** Answers an upgrade request with a plain HTTP error and closes the socket (no 101). */
export function refuseUpgrade(socket: Duplex, status: number, text = '', headers: Record<string, string> = {}): void {
  if (socket.writable) {
    const body = Buffer.from(text)
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n${extra}\r\n` +
        text,
    )
  }
  socket.destroy()
}

/** Reads a request body up to `limit` bytes; resolves undefined when it is larger. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        // Stop keeping the body but read it to the end, so that the 413 reaches the client.
        req.off('data', onData)
        chunks.length = 0
        req.resume()
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1'])

export function isLoopback(req: IncomingMessage): boolean {
  const address = req.socket.remoteAddress
  return address !== undefined && (LOOPBACK.has(address) || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}

/** The request's query with keys lower-cased: ASP.NET Core reads them case-insensitively. */
export function lowerCaseQuery(url: URL): URLSearchParams {
  const query = new URLSearchParams()
  for (const [key, value] of url.searchParams) query.append(key.toLowerCase(), value)
  return query
}
