import { describe, expect, it } from 'vitest'
import type { TokenVerifier } from '../../../src/auth/jwt-verifier.js'
import type { Principal } from '../../../src/auth/principal.js'
import { rememberVerifiedTokens } from '../../../src/auth/verified-tokens.js'
import { ImError, ImErrorCode } from '../../../src/errors.js'

/** A verifier that accepts `good-*` tokens (exp from the token's suffix, in s) and counts its calls. */
function countingVerifier(): TokenVerifier & { calls: number } {
  const verifier = {
    calls: 0,
    async verify(token: string): Promise<Principal> {
      verifier.calls++
      if (!token.startsWith('good-')) throw new ImError(ImErrorCode.Unauthorized, 'signature verification failed')
      return { userId: token, claims: { exp: Number(token.split('-')[2]) } }
    },
  }
  return verifier
}

describe('rememberVerifiedTokens', () => {
  it('verifies a token once and answers again from memory', async () => {
    const inner = countingVerifier()
    const verifier = rememberVerifiedTokens(inner, { now: () => 1000_000 })
    const first = await verifier.verify('good-a-2000')
    expect(await verifier.verify('good-a-2000')).toBe(first)
    expect(inner.calls).toBe(1)
  })

  it('never remembers a token that failed', async () => {
    const inner = countingVerifier()
    const verifier = rememberVerifiedTokens(inner)
    await expect(verifier.verify('bad')).rejects.toThrow('signature verification failed')
    await expect(verifier.verify('bad')).rejects.toThrow('signature verification failed')
    expect(inner.calls).toBe(2)
  })

  it('verifies again past the token expiry or the maximum age, whichever comes first', async () => {
    let now = 1000_000
    const inner = countingVerifier()
    const verifier = rememberVerifiedTokens(inner, { now: () => now, maxAgeMs: 60_000 })
    await verifier.verify('good-a-1010') // exp 1 010 s = 10 s from now
    now += 9_000
    await verifier.verify('good-a-1010')
    expect(inner.calls).toBe(1)
    now += 2_000
    await verifier.verify('good-a-1010')
    expect(inner.calls).toBe(2)
    await verifier.verify('good-b-9999')
    now += 61_000
    await verifier.verify('good-b-9999')
    expect(inner.calls).toBe(4)
  })

  it('keeps at most `capacity` tokens, dropping the oldest', async () => {
    const inner = countingVerifier()
    const verifier = rememberVerifiedTokens(inner, { capacity: 2, now: () => 0 })
    for (const token of ['good-1-9', 'good-2-9', 'good-3-9']) await verifier.verify(token)
    await verifier.verify('good-3-9')
    await verifier.verify('good-2-9')
    expect(inner.calls).toBe(3)
    await verifier.verify('good-1-9')
    expect(inner.calls).toBe(4)
  })
})
