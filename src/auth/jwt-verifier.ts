/**
 * Verifies access tokens and turns them into a Principal. Every failure becomes
 * ImError(Unauthorized) with a short reason that never contains the token, so that it can be logged
 * and sent in a 401 as is.
 */
import { errors, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose'
import type { JwtConfig } from '../config/config.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { Principal } from './principal.js'
import { createJwtKeySource, type JwtKeySource } from './jwt-key-source.js'

export interface TokenVerifier {
  /** Resolves with the token's principal, or rejects with ImError(Unauthorized). */
  verify(token: string): Promise<Principal>
}

/** Tokens above this size are refused unparsed: a token is parsed and verified before anything else is known of its sender. */
export const MAX_TOKEN_BYTES = 16_384

/** The claims .NET issuers put the user id in when there is no `sub` (ClaimTypes.NameIdentifier and its short JWT name). */
const NAME_IDENTIFIER_CLAIMS = ['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier', 'nameid'] as const

/** Builds the verifier for `config`, or returns undefined when JWT is not configured (all connections anonymous). */
export function createTokenVerifier(config: JwtConfig | undefined): TokenVerifier | undefined {
  if (config === undefined) return undefined
  const source: JwtKeySource = createJwtKeySource(config)
  const options: JWTVerifyOptions = {
    algorithms: [...source.algorithms],
    clockTolerance: config.clockToleranceSeconds,
    // jose checks exp only when present; a token without it would never expire.
    requiredClaims: ['exp'],
    ...(config.issuer !== undefined ? { issuer: config.issuer } : {}),
    ...(config.audience !== undefined ? { audience: config.audience } : {}),
  }
  const userIdClaim = config.userIdClaim
  return {
    async verify(token: string): Promise<Principal> {
      if (Buffer.byteLength(token, 'utf8') > MAX_TOKEN_BYTES) throw unauthorized(`token larger than ${MAX_TOKEN_BYTES} bytes`)
      if (token.trim() === '') throw unauthorized('malformed token')
      let payload: JWTPayload
      try {
        // The key argument has two shapes (bytes or resolver); jwtVerify's overloads need them apart.
        payload =
          typeof source.key === 'function'
            ? (await jwtVerify(token, source.key, options)).payload
            : (await jwtVerify(token, source.key, options)).payload
      } catch (error) {
        throw toUnauthorized(error)
      }
      const userId = readUserId(payload, userIdClaim)
      return Object.freeze({ userId, claims: Object.freeze({ ...payload }) })
    },
  }
}

function readUserId(payload: JWTPayload, claim: string): string {
  const candidates = claim === 'sub' ? [claim, ...NAME_IDENTIFIER_CLAIMS] : [claim]
  for (const name of candidates) {
    const value = payload[name]
    if (value === undefined || value === null || value === '') continue
    // Numeric ids are common in custom claims; anything else is not an id.
    if (typeof value === 'string') return value
    if (typeof value === 'number' && Number.isFinite(value)) return String(value)
    throw unauthorized(`token user id claim "${name}" is not a string`)
  }
  throw unauthorized(`token has no user id claim "${claim}"`)
}

function unauthorized(reason: string, cause?: unknown): ImError {
  return new ImError(ImErrorCode.Unauthorized, reason, cause === undefined ? undefined : { cause })
}

/** The one place where jose's errors become our reasons. */
export function toUnauthorized(error: unknown): ImError {
  if (error instanceof ImError) return error
  if (!(error instanceof errors.JOSEError)) return unauthorized('token verification failed', error)
  // JWTExpired (exp, or iat beyond maxTokenAge) carries claim and reason like JWTClaimValidationFailed.
  if (error instanceof errors.JWTExpired) return unauthorized(claimReason(error.claim, error.reason, true), error)
  if (error instanceof errors.JWTClaimValidationFailed) return unauthorized(claimReason(error.claim, error.reason, false), error)
  switch (error.code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return unauthorized('signature verification failed', error)
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return unauthorized('token algorithm not allowed', error)
    case 'ERR_JOSE_NOT_SUPPORTED':
      return unauthorized('token uses an unsupported algorithm or header', error)
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return unauthorized('malformed token', error)
    case 'ERR_JWKS_TIMEOUT':
      return unauthorized('JWKS request timed out', error)
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return unauthorized('no matching key in JWKS', error)
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return unauthorized('signature verification failed', error)
    case 'ERR_JWKS_INVALID':
    case 'ERR_JWK_INVALID':
      return unauthorized('JWKS response invalid', error)
    default:
      return unauthorized('token verification failed', error)
  }
}

function claimReason(claim: string, reason: string, expired: boolean): string {
  if (reason === 'missing') return `token has no "${claim}" claim`
  if (reason === 'invalid') return `token claim "${claim}" is invalid`
  if (expired) return claim === 'exp' ? 'token expired' : 'token too old'
  switch (claim) {
    case 'nbf':
      return 'token not yet valid'
    case 'iat':
      return 'token issued in the future'
    case 'iss':
      return 'unexpected issuer'
    case 'aud':
      return 'unexpected audience'
    case 'typ':
      return 'unexpected token type'
    default:
      return `token claim "${claim}" check failed`
  }
}
