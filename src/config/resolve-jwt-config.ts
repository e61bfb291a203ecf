/**
 * The JWT part of the configuration. Exactly one key source may be in effect. A key source set in
 * the environment replaces the one in im.config.ts rather than clashing with it, so a file written
 * for development (a secret) still runs in production with IM_JWT_JWKS_URL set.
 */
import type { ImConfigInput, JwtConfig } from './config.js'
import { invalid, readBoolean, readInteger, readString, settingSource, show, type Env, type SettingSource } from './config-values.js'

const KEY_SOURCES = [
  { key: 'secret', envVar: 'IM_JWT_SECRET' },
  { key: 'publicKey', envVar: 'IM_JWT_PUBLIC_KEY' },
  { key: 'jwksUrl', envVar: 'IM_JWT_JWKS_URL' },
] as const

type KeySourceName = (typeof KEY_SOURCES)[number]['key']

const PEM_PUBLIC_KEY = /-----BEGIN PUBLIC KEY-----[\s\S]+-----END PUBLIC KEY-----/

/** Undefined when no key source is set: every connection is anonymous. */
export function resolveJwtConfig(input: ImConfigInput['jwt'], env: Env): JwtConfig | undefined {
  const at = (fileValue: unknown, key: string, envVar: string): SettingSource | undefined => settingSource(env, fileValue, { key: `jwt.${key}`, envVar })
  const envHasKey = KEY_SOURCES.some(({ envVar }) => env[envVar] !== undefined && env[envVar] !== '')
  const present = KEY_SOURCES.map((name) => ({ name, source: at(envHasKey ? undefined : input?.[name.key], name.key, name.envVar) })).filter(
    (entry): entry is { name: (typeof KEY_SOURCES)[number]; source: SettingSource } => entry.source !== undefined,
  )
  if (present.length > 1) {
    throw invalid(`only one JWT key source may be set (IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL), got ${present.map((p) => p.source.label).join(' and ')}`)
  }
  const issuerSource = at(input?.issuer, 'issuer', 'IM_JWT_ISSUER')
  const audienceSource = at(input?.audience, 'audience', 'IM_JWT_AUDIENCE')
  const chosen = present[0]
  if (chosen === undefined) {
    // An issuer or audience without a key would silently leave every connection anonymous.
    const orphan = issuerSource ?? audienceSource
    if (orphan) throw invalid(`${orphan.label} is set but no JWT key is: set IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL`)
    return undefined
  }
  const issuer = readString(issuerSource)
  const audience = readString(audienceSource)
  return {
    [chosen.name.key]: readKey(chosen.name.key, chosen.source),
    ...(issuer !== undefined ? { issuer } : {}),
    ...(audience !== undefined ? { audience } : {}),
    userIdClaim: readString(at(input?.userIdClaim, 'userIdClaim', 'IM_USER_ID_CLAIM')) ?? 'sub',
    closeOnExpiry: readBoolean(at(input?.closeOnExpiry, 'closeOnExpiry', 'IM_JWT_CLOSE_ON_EXPIRY')) ?? true,
    clockToleranceSeconds: readInteger(at(input?.clockToleranceSeconds, 'clockToleranceSeconds', 'IM_JWT_CLOCK_TOLERANCE'), 0, 3600) ?? 30,
  }
}

function readKey(name: KeySourceName, source: SettingSource): string {
  if (name === 'secret') return readString(source, { secret: true }) as string
  const value = readString(source) as string
  if (name === 'publicKey') {
    // Environment variables rarely carry newlines well, so a PEM may arrive with literal "\n".
    const pem = value.replace(/\\r\\n|\\n/g, '\n')
    if (!PEM_PUBLIC_KEY.test(pem)) throw invalid(`${source.label} must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)`)
    return pem
  }
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw invalid(`${source.label} must be an http(s) URL, got ${show(value)}`)
  return value
}
