/**
 * Reading one setting from im.config.ts and its IM_* override. An environment value wins over the
 * file; an empty environment value counts as unset (`IM_JWT_ISSUER=` in a compose file). Messages
 * name where the bad value came from: the variable alone for the environment, the config key and
 * its variable for the file. Secrets are never echoed.
 */
import { ImError, ImErrorCode } from '../errors.js'

export type Env = Readonly<Record<string, string | undefined>>

export interface SettingSource {
  readonly value: unknown
  /** `IM_PORT`, or `port (IM_PORT)` for a value from the config file. */
  readonly label: string
  readonly fromEnv: boolean
}

export interface SettingName {
  /** The dotted key in ImConfig, e.g. `hubs.keepAliveIntervalMs`. */
  readonly key: string
  readonly envVar: string
}

/** The effective raw value of a setting, or undefined when neither the environment nor the file sets it. */
export function settingSource(env: Env, fileValue: unknown, name: SettingName): SettingSource | undefined {
  const raw = env[name.envVar]
  if (raw !== undefined && raw !== '') return { value: raw, label: name.envVar, fromEnv: true }
  if (fileValue !== undefined) return { value: fileValue, label: `${name.key} (${name.envVar})`, fromEnv: false }
  return undefined
}

export function invalid(message: string): ImError {
  return new ImError(ImErrorCode.ConfigInvalid, message)
}

/** How a bad value is quoted in a message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

export function readInteger(source: SettingSource | undefined, min: number, max: number): number | undefined {
  if (source === undefined) return undefined
  const { value } = source
  let parsed: number = Number.NaN
  if (source.fromEnv && typeof value === 'string' && /^\s*\d+\s*$/.test(value)) parsed = Number(value)
  else if (!source.fromEnv && typeof value === 'number') parsed = value
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw invalid(`${source.label} must be an integer from ${min} to ${max}, got ${show(value)}`)
  }
  return parsed
}

export function readString(source: SettingSource | undefined, options: { readonly secret?: boolean } = {}): string | undefined {
  if (source === undefined) return undefined
  const { value } = source
  // Secrets are kept byte for byte: the issuer signs with exactly that value.
  if (typeof value === 'string' && value.trim() !== '') return options.secret ? value : value.trim()
  throw invalid(`${source.label} must be a non-empty string${options.secret ? '' : `, got ${show(value)}`}`)
}

const TRUE = new Set(['true', '1'])
const FALSE = new Set(['false', '0'])

export function readBoolean(source: SettingSource | undefined): boolean | undefined {
  if (source === undefined) return undefined
  const { value } = source
  if (typeof value === 'boolean') return value
  if (source.fromEnv && typeof value === 'string') {
    const word = value.trim().toLowerCase()
    if (TRUE.has(word)) return true
    if (FALSE.has(word)) return false
  }
  throw invalid(`${source.label} must be true, false, 1 or 0, got ${show(value)}`)
}

/** A comma separated list (environment) or an array of strings (file); entries trimmed, empty ones dropped. */
export function readList(source: SettingSource | undefined): readonly string[] | undefined {
  if (source === undefined) return undefined
  const { value } = source
  const items = source.fromEnv && typeof value === 'string' ? value.split(',') : value
  if (!Array.isArray(items) || !items.every((item): item is string => typeof item === 'string')) {
    throw invalid(`${source.label} must be a list of strings, got ${show(value)}`)
  }
  return items.map((item) => item.trim()).filter((item) => item !== '')
}

/**
 * Hides credentials in `scheme://user:pass@host` and `scheme://token@host` URLs (NATS accepts both)
 * for messages and start-up lines; a user name stays visible.
 */
export function hideUrlPassword(url: string): string {
  return url.replace(/\/\/([^@/\s]*)@/g, (_match, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return colon === -1 ? '//***@' : `//${userinfo.slice(0, colon)}:***@`
  })
}
