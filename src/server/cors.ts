/**
 * CORS for the HTTP endpoints browsers call (negotiate, and later SSE / long polling). The
 * SignalR browser client sends credentials by default, so the origin is echoed, never `*`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

export class Cors {
  private readonly allowed: ReadonlySet<string> | undefined

  /** An empty list allows every origin. */
  constructor(origins: readonly string[]) {
    this.allowed = origins.length > 0 ? new Set(origins.map((o) => o.replace(/\/+$/, '').toLowerCase())) : undefined
  }

  /** Requests without an Origin header come from non-browser clients and are allowed. */
  isAllowed(origin: string | undefined): boolean {
    return origin === undefined || this.allowed === undefined || this.allowed.has(origin.toLowerCase())
  }

  /**
   * Adds the CORS headers for an allowed origin. Returns false (after answering 403) when the
   * origin is not allowed, and true when the caller should go on. Answers preflights itself.
   */
  handle(req: IncomingMessage, res: ServerResponse): 'continue' | 'done' {
    const origin = req.headers.origin
    if (!this.isAllowed(origin)) {
      res.writeHead(403, { 'Content-Type': 'text/plain' }).end(`Origin '${origin}' is not allowed.`)
      return 'done'
    }
    if (origin !== undefined) {
      res.setHeader('Access-Control-Allow-Origin', origin)
      res.setHeader('Access-Control-Allow-Credentials', 'true')
      res.setHeader('Vary', 'Origin')
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'GET, POST, DELETE, OPTIONS')
      const requested = req.headers['access-control-request-headers']
      if (requested) res.setHeader('Access-Control-Allow-Headers', requested)
      res.setHeader('Access-Control-Max-Age', '600')
      res.writeHead(204).end()
      return 'done'
    }
    return 'continue'
  }
}
