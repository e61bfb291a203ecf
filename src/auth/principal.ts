/** Who is on the other end of a connection, as established from its access token. */
export interface Principal {
  /** The user id (from the configured claim), or undefined for an anonymous connection. */
  readonly userId?: string
  /** All claims of the verified token; empty for anonymous connections. */
  readonly claims: Readonly<Record<string, unknown>>
}

export const ANONYMOUS: Principal = Object.freeze({ claims: Object.freeze({}) })

/** When the principal's token expires (its `exp`, in ms since the epoch), if it has one. */
export function expiresAt(principal: Principal): number | undefined {
  const exp = principal.claims.exp
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined
}
