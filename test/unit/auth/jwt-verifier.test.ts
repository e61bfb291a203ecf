import { createHmac } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { base64url, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose'
import { createTokenVerifier, MAX_TOKEN_BYTES, type TokenVerifier } from '../../../src/auth/jwt-verifier.js'
import type { JwtConfig } from '../../../src/config/config.js'
import { ImErrorCode } from '../../../src/errors.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const NAME_ID = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier'
const now = (): number => Math.floor(Date.now() / 1000)

function jwtConfig(overrides: Partial<JwtConfig>): JwtConfig {
  return { userIdClaim: 'sub', clockToleranceSeconds: 30, closeOnExpiry: true, ...overrides }
}

function verifierFor(overrides: Partial<JwtConfig>): TokenVerifier {
  const verifier = createTokenVerifier(jwtConfig(overrides))
  if (!verifier) throw new Error('expected a verifier')
  return verifier
}

/** An HS256 token; `exp` one hour ahead unless the claims say otherwise (null removes it). */
async function hsToken(claims: Omit<JWTPayload, 'exp'> & { exp?: number | null }, secret: string = SECRET): Promise<string> {
  const { exp, ...rest } = claims
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setIssuedAt()
  if (exp !== null) jwt.setExpirationTime(exp ?? now() + 3600)
  return jwt.sign(new TextEncoder().encode(secret))
}

/** Asserts a refusal with exactly `reason`, and that the token does not leak into the message. */
async function expectRefused(verifier: TokenVerifier, token: string, reason: string): Promise<void> {
  const error = await verifier.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toMatchObject({ name: 'ImError', code: ImErrorCode.Unauthorized, message: reason })
  // Neither the token nor any of its parts may appear in the message.
  for (const part of [token, ...token.split('.')].filter((p) => p.trim().length >= 8)) {
    expect((error as Error).message).not.toContain(part)
  }
}

describe('createTokenVerifier configuration', () => {
  it('returns undefined when JWT is not configured', () => {
    expect(createTokenVerifier(undefined)).toBeUndefined()
  })

  it('refuses a configuration without a key, naming the variables', () => {
    expect(() => createTokenVerifier(jwtConfig({}))).toThrow(
      expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining('IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL') }),
    )
  })

  it('refuses two key sources', () => {
    expect(() => createTokenVerifier(jwtConfig({ secret: SECRET, jwksUrl: 'https://idp.example/jwks' }))).toThrow(
      expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining('exactly one key source') }),
    )
  })

  it('refuses a PEM that is not a public key', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true })
    const pkcs8 = await exportPKCS8(privateKey)
    expect(() => createTokenVerifier(jwtConfig({ publicKey: pkcs8 }))).toThrow(/holds a private key/)
    expect(() => createTokenVerifier(jwtConfig({ publicKey: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----' }))).toThrow(
      'IM_JWT_PUBLIC_KEY is not a readable PEM public key',
    )
  })

  it('refuses a JWKS URL that is not http(s)', () => {
    expect(() => createTokenVerifier(jwtConfig({ jwksUrl: 'file:///etc/jwks.json' }))).toThrow('IM_JWT_JWKS_URL must be an http(s) URL, got "file:///etc/jwks.json"')
  })
})

describe('HS256 secret', () => {
  const verifier = verifierFor({ secret: SECRET })

  it('accepts a valid token and returns the sub as user id with all claims', async () => {
    const principal = await verifier.verify(await hsToken({ sub: 'alice', role: 'admin' }))
    expect(principal.userId).toBe('alice')
    expect(principal.claims).toMatchObject({ sub: 'alice', role: 'admin' })
  })

  it('falls back to the .NET name identifier claim when sub is missing', async () => {
    expect((await verifier.verify(await hsToken({ [NAME_ID]: 'bob' }))).userId).toBe('bob')
    expect((await verifier.verify(await hsToken({ nameid: 'carol' }))).userId).toBe('carol')
  })

  it('reads a custom user id claim and does not fall back from it', async () => {
    const custom = verifierFor({ secret: SECRET, userIdClaim: 'uid' })
    expect((await custom.verify(await hsToken({ uid: 'dave', sub: 'ignored' }))).userId).toBe('dave')
    expect((await custom.verify(await hsToken({ uid: 42 }))).userId).toBe('42')
    await expectRefused(custom, await hsToken({ sub: 'erin', [NAME_ID]: 'erin' }), 'token has no user id claim "uid"')
  })

  it('refuses a verified token without a user id', async () => {
    await expectRefused(verifier, await hsToken({ role: 'x' }), 'token has no user id claim "sub"')
    await expectRefused(verifier, await hsToken({ sub: '' }), 'token has no user id claim "sub"')
    await expectRefused(verifier, await hsToken({ nameid: ['x'] }), 'token user id claim "nameid" is not a string')
  })

  it('refuses a token expired beyond the clock tolerance and accepts one within it', async () => {
    await expectRefused(verifier, await hsToken({ sub: 'a', exp: now() - 31 - 5 }), 'token expired')
    expect((await verifier.verify(await hsToken({ sub: 'a', exp: now() - 10 }))).userId).toBe('a')
  })

  it('uses the configured clock tolerance', async () => {
    const strict = verifierFor({ secret: SECRET, clockToleranceSeconds: 0 })
    await expectRefused(strict, await hsToken({ sub: 'a', exp: now() - 2 }), 'token expired')
  })

  it('refuses a token whose nbf is in the future', async () => {
    await expectRefused(verifier, await hsToken({ sub: 'a', nbf: now() + 120 }), 'token not yet valid')
    expect((await verifier.verify(await hsToken({ sub: 'a', nbf: now() + 10 }))).userId).toBe('a')
  })

  it('refuses a token without exp', async () => {
    await expectRefused(verifier, await hsToken({ sub: 'a', exp: null }), 'token has no "exp" claim')
  })

  it('refuses a token signed with another secret', async () => {
    await expectRefused(verifier, await hsToken({ sub: 'a' }, 'another-secret-another-secret-xx'), 'signature verification failed')
  })

  it('refuses an unsigned alg none token', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }))
    const payload = base64url.encode(JSON.stringify({ sub: 'mallory', exp: now() + 3600 }))
    await expectRefused(verifier, `${header}.${payload}.`, 'token algorithm not allowed')
  })

  it('refuses malformed tokens', async () => {
    for (const token of ['not-a-jwt', 'a.b', 'a.b.c', '   ', `${base64url.encode('{"alg":"HS256"}')}.e30`]) {
      await expectRefused(verifier, token, 'malformed token')
    }
    // A signed payload that is not JSON: the signature is checked first, then the payload.
    const header = base64url.encode('{"alg":"HS256"}')
    const body = base64url.encode('not json')
    const signature = createHmac('sha256', SECRET).update(`${header}.${body}`).digest('base64url')
    await expectRefused(verifier, `${header}.${body}.${signature}`, 'malformed token')
  })

  it('refuses a token over 16 KB before parsing it', async () => {
    const big = await hsToken({ sub: 'a', pad: 'x'.repeat(MAX_TOKEN_BYTES) })
    await expectRefused(verifier, big, 'token larger than 16384 bytes')
    await expectRefused(verifier, 'x'.repeat(MAX_TOKEN_BYTES + 1), 'token larger than 16384 bytes')
  })

  it('checks issuer and audience when configured', async () => {
    const strict = verifierFor({ secret: SECRET, issuer: 'https://idp.example', audience: 'im' })
    const good = await hsToken({ sub: 'a', iss: 'https://idp.example', aud: 'im' })
    expect((await strict.verify(good)).userId).toBe('a')
    await expectRefused(strict, await hsToken({ sub: 'a', iss: 'https://evil.example', aud: 'im' }), 'unexpected issuer')
    await expectRefused(strict, await hsToken({ sub: 'a', iss: 'https://idp.example', aud: 'other' }), 'unexpected audience')
    await expectRefused(strict, await hsToken({ sub: 'a', aud: 'im' }), 'token has no "iss" claim')
  })
})

describe('public key PEM', () => {
  it('verifies RS256 and refuses an HS256 token that uses the public key PEM as its secret', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    const pem = await exportSPKI(publicKey)
    const verifier = verifierFor({ publicKey: pem })
    const token = await new SignJWT({ sub: 'rsa-user' }).setProtectedHeader({ alg: 'RS256' }).setExpirationTime('1h').sign(privateKey)
    expect((await verifier.verify(token)).userId).toBe('rsa-user')

    const confused = await hsToken({ sub: 'mallory' }, pem)
    await expectRefused(verifier, confused, 'token algorithm not allowed')
  })

  it('accepts PS256 with an RSA key, since both use the same key type', async () => {
    const { publicKey, privateKey } = await generateKeyPair('PS256', { extractable: true })
    const verifier = verifierFor({ publicKey: await exportSPKI(publicKey) })
    const token = await new SignJWT({ sub: 'pss' }).setProtectedHeader({ alg: 'PS256' }).setExpirationTime('1h').sign(privateKey)
    expect((await verifier.verify(token)).userId).toBe('pss')
  })

  it('verifies ES256 and pins the curve: an ES384 header is not allowed', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true })
    const verifier = verifierFor({ publicKey: await exportSPKI(publicKey) })
    const token = await new SignJWT({ sub: 'ec-user' }).setProtectedHeader({ alg: 'ES256' }).setExpirationTime('1h').sign(privateKey)
    expect((await verifier.verify(token)).userId).toBe('ec-user')
    const [, payload, signature] = token.split('.')
    await expectRefused(verifier, `${base64url.encode('{"alg":"ES384"}')}.${payload}.${signature}`, 'token algorithm not allowed')
  })

  it('verifies EdDSA', async () => {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { extractable: true })
    const verifier = verifierFor({ publicKey: await exportSPKI(publicKey) })
    const token = await new SignJWT({ sub: 'ed' }).setProtectedHeader({ alg: 'EdDSA' }).setExpirationTime('1h').sign(privateKey)
    expect((await verifier.verify(token)).userId).toBe('ed')
  })

  it('ignores a key embedded in the token header', async () => {
    const trusted = await generateKeyPair('RS256', { extractable: true })
    const attacker = await generateKeyPair('RS256', { extractable: true })
    const verifier = verifierFor({ publicKey: await exportSPKI(trusted.publicKey) })
    const jwk = await exportJWK(attacker.publicKey)
    const token = await new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'RS256', jwk }).setExpirationTime('1h').sign(attacker.privateKey)
    await expectRefused(verifier, token, 'signature verification failed')
  })
})

describe('JWKS URL', () => {
  let server: Server
  let jwksUrl: string
  let requests = 0
  let signingKey: CryptoKey

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true })
    signingKey = privateKey
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] })
    server = createServer((req, res) => {
      requests += 1
      if (req.url !== '/jwks.json') return res.writeHead(404).end()
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`
  })

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })

  it('verifies a token signed by a key of the set and caches the set', async () => {
    const verifier = verifierFor({ jwksUrl })
    const token = await new SignJWT({ sub: 'jwks-user' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(signingKey)
    const before = requests
    expect((await verifier.verify(token)).userId).toBe('jwks-user')
    expect((await verifier.verify(token)).userId).toBe('jwks-user')
    expect(requests - before).toBe(1)
  })

  it('refuses a token whose kid is not in the set', async () => {
    const verifier = verifierFor({ jwksUrl })
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'unknown' }).setExpirationTime('1h').sign(signingKey)
    await expectRefused(verifier, token, 'no matching key in JWKS')
  })

  it('refuses an HS256 token outright: a JWKS allows asymmetric algorithms only', async () => {
    await expectRefused(verifierFor({ jwksUrl }), await hsToken({ sub: 'x' }), 'token algorithm not allowed')
  })

  it('fails closed when the JWKS endpoint answers with an error or cannot be reached', async () => {
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(signingKey)
    await expectRefused(verifierFor({ jwksUrl: jwksUrl.replace('/jwks.json', '/missing') }), token, 'JWKS request failed')
    await expectRefused(verifierFor({ jwksUrl: 'http://127.0.0.1:1/jwks.json' }), token, 'JWKS request failed')
  })

  it('gives up on a JWKS endpoint that does not answer within 5 s', async () => {
    const silent = createServer(() => {
      // Never answers: the verifier must time out rather than hang the connection attempt.
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/jwks.json`
      const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime('1h').sign(signingKey)
      const started = Date.now()
      await expectRefused(verifierFor({ jwksUrl: url }), token, 'JWKS request timed out')
      expect(Date.now() - started).toBeLessThan(8_000)
    } finally {
      silent.closeAllConnections()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })
})
