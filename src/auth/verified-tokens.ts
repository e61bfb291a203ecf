/**
 * Tokens verified recently, so that the same token is not verified again and again: a client
 * presents it at negotiate and again at the WebSocket upgrade (and on every long poll), and
 * presents it again on every reconnect. Verifying costs a signature check and a JSON parse; a
 * look-up costs a Map get. Only tokens that passed are kept, each until the earlier of its `exp`
 * and `maxAgeMs` (so that a key removed from a JWKS stops being honoured soon), and at most
 * `capacity` of them (the oldest go first), so memory stays bounded whatever clients send.
 */
import { expiresAt } from './principal.js'
import type { Principal } from './principal.js'
import type { TokenVerifier } from './jwt-verifier.js'

export interface VerifiedTokensOptions {
  /** Tokens remembered at most (default 4096). */
  readonly capacity?: number
  /** How long a token is trusted without verifying it again, in ms (default 60 000). */
  readonly maxAgeMs?: number
  readonly now?: () => number
}

interface Entry {
  readonly principal: Principal
  readonly until: number
}

export function rememberVerifiedTokens(verifier: TokenVerifier, options: VerifiedTokensOptions = {}): TokenVerifier {
  const capacity = options.capacity ?? 4096
  const maxAgeMs = options.maxAgeMs ?? 60_000
  const now = options.now ?? Date.now
  const entries = new Map<string, Entry>()
  return {
    async verify(token: string): Promise<Principal> {
      const known = entries.get(token)
      if (known !== undefined) {
        if (now() < known.until) return known.principal
        entries.delete(token)
      }
      const principal = await verifier.verify(token)
      const time = now()
      const until = Math.min(expiresAt(principal) ?? Number.POSITIVE_INFINITY, time + maxAgeMs)
      if (until > time) {
        // A Map iterates in insertion order: the first key is the oldest entry.
        if (entries.size >= capacity) entries.delete(entries.keys().next().value!)
        entries.set(token, { principal, until })
      }
      return principal
    },
  }
}
