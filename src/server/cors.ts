/**
 * Cross-origin policy for what browsers call: negotiate, Server-Sent Events, long polling and
 * WebSocket upgrades. ASP.NET Core's stance: a browser request from another origin is refused
 * unless its origin is allow-listed (IM_CORS_ORIGINS). Requests without `Origin` (services, native
 * clients) and same-origin requests pass. The SignalR browser client sends credentials by
 * default, so a listed origin is echoed with `Access-Control-Allow-Credentials`; `*` allows every
 * origin without credentials (the client then needs `withCredentials: false`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { sendText } from './http-util.js'

export interface CorsOptions {
  /** Allowed origins (`https://app.example.com`); `*` alone allows any origin without credentials. */
  readonly corsOrigins: readonly string[]
  readonly logger?: Logger
  readonly metrics?: Metrics
}

/** How a request stands: no Origin, same origin, an allow-listed origin, any origin (`*`), or refused. */
export type OriginVerdict = 'none' | 'same' | 'listed' | 'any' | 'refused'

export const CORS_SETTING = 'IM_CORS_ORIGINS (corsOrigins in im.config.ts)'
/** Distinct refused origins logged; past it refusals are only counted, so a flood of origins costs no memory. */
const MAX_REPORTED_ORIGINS = 1000
/** Longest origin quoted in an answer or a log line. */
const MAX_SHOWN = 200

export class Cors {
  private readonly listed: ReadonlySet<string>
  private readonly any: boolean
  private readonly reported = new Set<string>()

  constructor(private readonly options: CorsOptions) {
    this.any = options.corsOrigins.includes('*')
    this.listed = new Set(options.corsOrigins.filter((o) => o !== '*').map(normalize))
  }

  /** True when `origin` is on the explicit list (`*` does not count): for endpoints that are not for browsers. */
  isListed(origin: string): boolean {
    return this.listed.has(normalize(origin))
  }

  /** Judges the request's Origin; a refusal is counted, and the first one of each origin logged. */
  verdict(req: IncomingMessage, path: string): OriginVerdict {
    const origin = req.headers.origin
    if (origin === undefined) return 'none'
    if (this.isListed(origin)) return 'listed'
    if (isSameOrigin(origin, req.headers.host)) return 'same'
    if (this.any) return 'any'
    this.refused(origin, path)
    return 'refused'
  }

  /**
   * Adds the CORS headers an allowed request needs and answers preflights. Answers 403 and
   * returns 'done' for a refused origin; 'continue' when the caller should go on.
   */
  handle(req: IncomingMessage, res: ServerResponse, path: string): 'continue' | 'done' {
    const verdict = this.verdict(req, path)
    if (verdict === 'refused') {
      sendText(res, 403, refusalText(req.headers.origin ?? ''))
      return 'done'
    }
    if (verdict === 'listed') {
      res.setHeader('Access-Control-Allow-Origin', req.headers.origin ?? '')
      res.setHeader('Access-Control-Allow-Credentials', 'true')
      res.setHeader('Vary', 'Origin')
    } else if (verdict === 'any') {
      // The CORS spec forbids `*` with credentials: a browser would refuse to read the answer.
      res.setHeader('Access-Control-Allow-Origin', '*')
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

  /** The 403 text for a WebSocket upgrade from a refused origin, or undefined when it may go on. */
  refuseUpgrade(req: IncomingMessage, path: string): string | undefined {
    return this.verdict(req, path) === 'refused' ? refusalText(req.headers.origin ?? '') : undefined
  }

  private refused(origin: string, path: string): void {
    this.options.metrics?.inc('cors_refused')
    if (this.reported.has(origin) || this.reported.size >= MAX_REPORTED_ORIGINS) return
    this.reported.add(origin)
    this.options.logger?.warn(`refused a cross-origin request; to allow its origin, add it to ${CORS_SETTING}`, { origin: shown(origin), path })
  }
}

export function refusalText(origin: string): string {
  return `Cross-origin request refused: the origin '${shown(origin)}' is not in this server's allowed origins (${CORS_SETTING}).`
}

/** Browsers send Origin in lower case without a trailing slash; settings may differ in case. */
function normalize(origin: string): string {
  return origin.replace(/\/+$/, '').toLowerCase()
}

function shown(origin: string): string {
  return origin.length > MAX_SHOWN ? `${origin.slice(0, MAX_SHOWN)}...` : origin
}

/**
 * True when `origin` is the request's own `scheme://Host`. The scheme is the Origin's own: behind
 * a TLS-terminating proxy the node sees plain HTTP while the page is on https.
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  // A host name, an IPv4 address or a bracketed IPv6 one, and a port: nothing a URL would read as path or user.
  if (host === undefined || !/^[A-Za-z0-9.\-[\]:]+$/.test(host)) return false
  try {
    const page = new URL(origin)
    if (page.protocol !== 'http:' && page.protocol !== 'https:') return false
    return new URL(`${page.protocol}//${host}`).origin === page.origin
  } catch {
    return false
  }
}
