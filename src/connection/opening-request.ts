/**
 * The HTTP request that opened a connection, as hub code reads it (`this.context.http`, ASP.NET
 * Core's `Context.GetHttpContext()`). Which request, as in ASP.NET Core's HttpConnectionDispatcher:
 * the WebSocket upgrade; the Server-Sent Events GET; the first long poll (later polls change
 * nothing: ASP.NET Core clones the first poll's request for the connection's life); after a
 * stateful reconnect, the upgrade that resumed the connection (on this node or on the node it
 * moved to). Never the negotiate.
 *
 * Credentials never enter it: the value of `Authorization` (and `Proxy-Authorization`) reads
 * "[redacted]", and the query leaves out `access_token` (the token of WebSockets and Server-Sent
 * Events) and `id` (the connection token, which opens the connection over HTTP). ASP.NET Core
 * keeps both in `Request.Query`; hub code that passes the request on to services would hand
 * them a credential.
 *
 * Per connection it keeps a copy of the header table (the strings are those node:http already
 * made) and the query string; query parameters and cookies are parsed when hub code first reads
 * them.
 */

/** What `this.context.http` gives hub code: frozen, the same object on every read. */
export interface HttpContextSnapshot {
  /**
   * Request headers by lower-cased name. A repeated header reads as node:http joins it (`, `;
   * `; ` for Cookie). `authorization` and `proxy-authorization` read "[redacted]". The WebSocket
   * handshake's own headers (`connection`, `upgrade`, `sec-websocket-key`, `-version`,
   * `-extensions`) are left out.
   */
  readonly headers: Readonly<Record<string, string>>
  /**
   * Query parameters by name as sent (lookups are case-sensitive), decoded; a repeated parameter
   * reads as its values joined with "," (as ASP.NET Core's StringValues). Without `access_token`
   * and `id`.
   */
  readonly query: Readonly<Record<string, string>>
  /** Cookies from the Cookie header by name, values percent-decoded; the first of a repeated name wins. */
  readonly cookies: Readonly<Record<string, string>>
  /** The request path, e.g. `/signalr-hubs/default`. */
  readonly path: string
  /** The client address the request came from (the proxy's, behind a proxy). */
  readonly remoteAddress: string | undefined
  /** `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly transport: string
}

/** Request headers as node:http gives them. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>

export const REDACTED = '[redacted]'
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization'])
/** The WebSocket handshake's own headers: they describe the upgrade, not the client, and cost memory per connection. */
const HANDSHAKE_HEADERS = new Set(['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-extensions'])
const SECRET_PARAMETERS = new Set(['access_token', 'id'])

export class OpeningRequest {
  private built: HttpContextSnapshot | undefined

  private constructor(
    private readonly headers: Readonly<Record<string, string>>,
    private readonly path: string,
    /** The query string without `?` and without the secret parameters, as sent. */
    private readonly search: string,
    private readonly remoteAddress: string | undefined,
    readonly transport: string,
  ) {}

  /** `search` is the query string as sent, with or without its `?`. */
  static capture(headers: RequestHeaders, path: string, search: string, remoteAddress: string | undefined, transport: string): OpeningRequest {
    const copy: Record<string, string> = Object.create(null)
    for (const name of Object.keys(headers)) {
      const value = headers[name]
      // node:http gives names in lower case already: no new string for them.
      const lower = /[A-Z]/.test(name) ? name.toLowerCase() : name
      if (value === undefined || HANDSHAKE_HEADERS.has(lower)) continue
      copy[lower] = SECRET_HEADERS.has(lower) ? REDACTED : typeof value === 'string' ? value : value.join(', ')
    }
    return new OpeningRequest(copy, path, withoutSecrets(search), remoteAddress, transport)
  }

  /** Built on first read, then kept: most hubs never read it. */
  snapshot(): HttpContextSnapshot {
    return (this.built ??= Object.freeze({
      headers: Object.freeze(this.headers),
      query: Object.freeze(parseQuery(this.search)),
      cookies: Object.freeze(parseCookies(this.headers.cookie)),
      path: this.path,
      remoteAddress: this.remoteAddress,
      transport: this.transport,
    }))
  }
}

/** The query string without `access_token` and `id` (names matched ignoring case, as the endpoint reads them). */
export function withoutSecrets(search: string): string {
  const query = search.startsWith('?') ? search.slice(1) : search
  if (query === '') return ''
  const parts = query.split('&')
  const kept = parts.filter((part) => !SECRET_PARAMETERS.has(decodeComponent(part.split('=', 1)[0]!).toLowerCase()))
  return kept.length === parts.length ? query : kept.join('&')
}

function parseQuery(search: string): Record<string, string> {
  const query: Record<string, string> = Object.create(null)
  for (const [name, value] of new URLSearchParams(search)) {
    query[name] = name in query ? `${query[name]},${value}` : value
  }
  return query
}

/** `a=1; b="two"` (RFC 6265 section 4.2.1); a value in quotes loses them. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const cookies: Record<string, string> = Object.create(null)
  if (!header) return cookies
  for (const pair of header.split(/;\s*/)) {
    const equals = pair.indexOf('=')
    if (equals <= 0) continue
    const name = pair.slice(0, equals).trim()
    if (name === '' || name in cookies) continue
    let value = pair.slice(equals + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    cookies[name] = decodeComponent(value, false)
  }
  return cookies
}

/** Percent-decoding that keeps malformed input as it is; in a query, `+` is a space. */
function decodeComponent(text: string, plusIsSpace = true): string {
  const spaced = plusIsSpace ? text.replace(/\+/g, ' ') : text
  try {
    return decodeURIComponent(spaced)
  } catch {
    return spaced
  }
}
