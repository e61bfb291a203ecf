/**
 * The JWT part of the configuration: the kinds of its key sources and the rule that makes the
 * group. Exactly one key source may be in effect (the table marks them as alternatives); without
 * one there is no `jwt` and every connection is anonymous.
 */
import type { JwtConfig } from './config.js'
import type { SettingKind } from './setting-kinds.js'
import { invalid, readString, show, type SettingSource } from './config-values.js'

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/
/**
 * RFC 7518 §3.2: "A key of the same size as the hash output (for instance, 256 bits for "HS256")
 * or larger MUST be used with this algorithm."
 */
export const MIN_HS256_SECRET_BYTES = 32
const KEY_SOURCES = 'IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL'

/** The HS256 shared secret, kept byte for byte and never echoed. */
export function hs256Secret(): SettingKind<string> {
  return {
    values: `secret text, at least ${MIN_HS256_SECRET_BYTES} bytes`,
    read(source) {
      const value = readString(source, { secret: true }) as string
      // The verifier keys HMAC with the UTF-8 bytes of the secret (jwt-key-source.ts), so count those.
      const bytes = new TextEncoder().encode(value).byteLength
      if (bytes < MIN_HS256_SECRET_BYTES) {
        throw invalid(
          `${source.label} is too short for HS256: ${bytes} bytes, where RFC 7518 §3.2 requires at least ${MIN_HS256_SECRET_BYTES} ` +
            '(256 bits, the size of the hash); generate one with `openssl rand -base64 32`',
        )
      }
      return value
    },
  }
}

export function pemPublicKey(): SettingKind<string> {
  return {
    values: 'PEM public key',
    read(source) {
      // Environment variables rarely carry newlines well, so a PEM may arrive with literal "\n".
      const pem = (readString(source) as string).replace(/\\r\\n|\\n/g, '\n')
      if (!PEM_PUBLIC_KEY.test(pem)) throw invalid(`${source.label} must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)`)
      return pem
    },
  }
}

export function httpUrl(): SettingKind<string> {
  return {
    values: 'http(s) URL',
    read(source) {
      const value = readString(source) as string
      let url: URL | undefined
      try {
        url = new URL(value)
      } catch {
        url = undefined
      }
      if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw invalid(`${source.label} must be an http(s) URL, got ${show(value)}`)
      return value
    },
  }
}

export interface JwtSettingsRead {
  /** The group as read from the table, defaults applied; its key source may be missing. */
  readonly group: Partial<JwtConfig>
  readonly issuer: SettingSource | undefined
  readonly audience: SettingSource | undefined
}

/** The `jwt` group when a key source is set; undefined (everyone anonymous) when none is. */
export function finishJwtConfig({ group, issuer, audience }: JwtSettingsRead): JwtConfig | undefined {
  if (group.secret !== undefined || group.publicKey !== undefined || group.jwksUrl !== undefined) return group as JwtConfig
  // An issuer or audience without a key would silently leave every connection anonymous.
  const orphan = issuer ?? audience
  if (orphan) throw invalid(`${orphan.label} is set but no JWT key is: set ${KEY_SOURCES}`)
  return undefined
}
