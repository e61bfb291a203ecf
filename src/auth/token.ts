/**
 * Where a client's access token travels. Browsers cannot set headers on WebSocket or EventSource
 * requests, so the SignalR client sends `access_token` in the query string there and
 * `Authorization: Bearer` everywhere else (ASP.NET Core docs, "Authentication and authorization in
 * ASP.NET Core SignalR", built-in JWT authentication).
 */
export interface TokenHeaders {
  readonly authorization?: string | readonly string[] | undefined
}

// RFC 6750 §2.1: the scheme is case-insensitive; anything after it (trimmed) is the credential.
// A credential with inner spaces is returned as is so that the verifier refuses it as malformed
// rather than the request silently falling back to another token.
const BEARER = /^\s*bearer(?:\s+(.*?))?\s*$/is

/** The access token of a request, header first, else `?access_token=`; empty values count as absent. */
export function extractAccessToken(headers: TokenHeaders, query: URLSearchParams): string | undefined {
  const fromHeader = bearerToken(headers.authorization)
  if (fromHeader !== undefined) return fromHeader
  const fromQuery = query.get('access_token')
  return fromQuery ? fromQuery : undefined
}

function bearerToken(authorization: string | readonly string[] | undefined): string | undefined {
  const values = typeof authorization === 'string' ? [authorization] : (authorization ?? [])
  for (const value of values) {
    const token = BEARER.exec(value)?.[1]
    if (token) return token
  }
  return undefined
}
