/**
 * Turns the configured key source into the key jose verifies with and the algorithms it may accept.
 * The algorithm list comes from the key alone, never from the token header: a secret allows HS256
 * only and a public key only the algorithms of its own type, which rules out `alg: none` and the
 * HS/RS confusion where a public key is used as an HMAC secret.
 */
import { createPublicKey, type KeyObject } from 'node:crypto'
import { createRemoteJWKSet, errors, importSPKI, type CryptoKey, type JWTVerifyGetKey } from 'jose'
import type { JwtConfig } from '../config/config.js'
import { ImError, ImErrorCode } from '../errors.js'

export interface JwtKeySource {
  /** A short description for start-up logs; never contains key material. */
  readonly description: string
  readonly algorithms: readonly string[]
  readonly key: Uint8Array | JWTVerifyGetKey
}

const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'] as const
const RSA_PSS = ['PS256', 'PS384', 'PS512'] as const
const EC_BY_CURVE: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' }
// jose 6 knows Ed25519 under the legacy name EdDSA and the RFC 9864 name Ed25519.
const ED25519 = ['EdDSA', 'Ed25519'] as const
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', ...ED25519] as const

// createRemoteJWKSet settings, written out so that they do not move with jose's defaults.
export const JWKS_TIMEOUT_MS = 5_000
export const JWKS_COOLDOWN_MS = 30_000
export const JWKS_CACHE_MAX_AGE_MS = 600_000

const KEY_ENV = 'IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL'

/** Picks the one key source of `config`; throws ConfigInvalid when there is none or more than one. */
export function createJwtKeySource(config: JwtConfig): JwtKeySource {
  const sources = [config.secret, config.publicKey, config.jwksUrl].filter((s) => s !== undefined && s !== '')
  if (sources.length !== 1) {
    throw new ImError(
      ImErrorCode.ConfigInvalid,
      sources.length === 0
        ? `JWT settings need a key: set one of ${KEY_ENV}`
        : `JWT settings must have exactly one key source, got ${sources.length}: set only one of ${KEY_ENV}`,
    )
  }
  if (config.secret) return { description: 'HS256 shared secret', algorithms: ['HS256'], key: new TextEncoder().encode(config.secret) }
  if (config.publicKey) return publicKeySource(config.publicKey)
  return jwksSource(config.jwksUrl as string)
}

function publicKeySource(pem: string): JwtKeySource {
  // createPublicKey would also accept a private key or a certificate; importSPKI takes neither, and
  // a private key has no business in this setting.
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ImError(ImErrorCode.ConfigInvalid, 'IM_JWT_PUBLIC_KEY holds a private key; give the public key (-----BEGIN PUBLIC KEY-----)')
  }
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) {
    throw new ImError(ImErrorCode.ConfigInvalid, 'IM_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY-----)')
  }
  let keyObject: KeyObject
  try {
    keyObject = createPublicKey({ key: pem, format: 'pem' })
  } catch (cause) {
    throw new ImError(ImErrorCode.ConfigInvalid, 'IM_JWT_PUBLIC_KEY is not a readable PEM public key', { cause })
  }
  const algorithms = algorithmsFor(keyObject)
  // WebCrypto keys are bound to one algorithm, so import once per algorithm actually presented.
  // jose checks the header's alg against `algorithms` before it asks for the key.
  const imported = new Map<string, Promise<CryptoKey>>()
  const key: JWTVerifyGetKey = (header) => {
    let pending = imported.get(header.alg)
    if (!pending) {
      pending = importSPKI(pem, header.alg)
      imported.set(header.alg, pending)
    }
    return pending
  }
  return { description: `public key (${algorithms.join(', ')})`, algorithms, key }
}

function algorithmsFor(keyObject: KeyObject): readonly string[] {
  const type = keyObject.asymmetricKeyType
  if (type === 'rsa') return RSA
  if (type === 'rsa-pss') return RSA_PSS
  if (type === 'ed25519') return ED25519
  if (type === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve
    const alg = curve === undefined ? undefined : EC_BY_CURVE[curve]
    if (alg) return [alg]
    throw new ImError(ImErrorCode.ConfigInvalid, `IM_JWT_PUBLIC_KEY uses the unsupported curve ${String(curve)}; use P-256, P-384 or P-521`)
  }
  throw new ImError(ImErrorCode.ConfigInvalid, `IM_JWT_PUBLIC_KEY has the unsupported key type ${String(type)}; use RSA, EC or Ed25519`)
}

function jwksSource(jwksUrl: string): JwtKeySource {
  let url: URL
  try {
    url = new URL(jwksUrl)
  } catch (cause) {
    throw new ImError(ImErrorCode.ConfigInvalid, `IM_JWT_JWKS_URL must be an http(s) URL, got "${jwksUrl}"`, { cause })
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ImError(ImErrorCode.ConfigInvalid, `IM_JWT_JWKS_URL must be an http(s) URL, got "${jwksUrl}"`)
  }
  // Fail closed: once cacheMaxAge has passed and the IdP cannot be reached, verification throws and
  // new connections are refused; a stale-if-error grace period would be a deliberate later choice.
  const jwks = createRemoteJWKSet(url, {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
  })
  const key: JWTVerifyGetKey = async (header, token) => {
    try {
      return await jwks(header, token)
    } catch (error) {
      // fetch() rejects with a bare TypeError when the host is unreachable, and jose raises its
      // generic error for a non-200 or non-JSON answer: both are known here to concern the JWKS
      // request, not the token.
      if (error instanceof TypeError || (error instanceof errors.JOSEError && error.code === 'ERR_JOSE_GENERIC')) {
        throw new ImError(ImErrorCode.Unauthorized, 'JWKS request failed', { cause: error })
      }
      throw error
    }
  }
  return { description: `JWKS ${url.origin}${url.pathname}`, algorithms: ASYMMETRIC, key }
}
