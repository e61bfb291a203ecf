/** Small helpers for answering HTTP requests and refusing upgrades. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { STATUS_CODES } from 'node:http'
import type { Duplex } from 'node:stream'

/**
 * Headers on every answer a node writes: nothing it serves is a document to sniff or a page to
 * cache (negotiate hands out connection tokens). A transport that wants other caching says so
 * in its own writeHead, which wins over these.
 */
export const SAFE_RESPONSE_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } as const

/** Sets SAFE_RESPONSE_HEADERS on a response before any handler writes to it. */
export function setSafeHeaders(res: ServerResponse): void {
  for (const [name, value] of Object.entries(SAFE_RESPONSE_HEADERS)) res.setHeader(name, value)
}

export function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...SAFE_RESPONSE_HEADERS, ...headers }).end(text)
}

export function sendJson(res: ServerResponse, status: number, body: string | object): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json', ...SAFE_RESPONSE_HEADERS }).end(text)
}

/** Answers an upgrade request with a plain HTTP error and closes the socket (no 101). */
export function refuseUpgrade(socket: Duplex, status: number, text = '', headers: Record<string, string> = {}): void {
  if (socket.writable) {
    const body = Buffer.from(text)
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        `Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
        `X-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n${extra}\r\n` +
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

/** True for 127.0.0.0/8 and ::1, written as IPv4, IPv6 or IPv4-mapped IPv6. */
export function isLoopbackAddress(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'))
}

export function isLoopback(req: IncomingMessage): boolean {
  return isLoopbackAddress(req.socket.remoteAddress)
}

/**
 * True when a listener on `host` is reachable from this machine only: a loopback address or
 * `localhost`. Anything else (0.0.0.0, ::, a LAN address) may be reached from other machines.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, '')
  return bare === 'localhost' || isLoopbackAddress(bare)
}

/** The request's query with keys lower-cased: ASP.NET Core reads them case-insensitively. */
export function lowerCaseQuery(url: URL): URLSearchParams {
  const query = new URLSearchParams()
  for (const [key, value] of url.searchParams) query.append(key.toLowerCase(), value)
  return query
}
