/**
 * One row of the settings table: where a setting lives in im.config.ts, its IM_* variable, the
 * kind of value it takes (type and bounds), its default and its line in the docs. The key and the
 * value type are checked against `ImConfigInput` / `ImConfig` by the compiler.
 */
import type { ImConfig, ImConfigInput } from './config.js'
import type { EarlierSettings, SettingKind } from './setting-kinds.js'

/** True for a nested group of settings (`hubs`, `jwt`, `topics.authorizer`); lists are values. */
type IsGroup<T> = NonNullable<T> extends readonly unknown[] ? false : NonNullable<T> extends object ? true : false

/** The dotted key of every setting: `port`, `hubs.keepAliveIntervalMs`, `topics.authorizer.enabled`. */
export type SettingKey<T = ImConfigInput, Prefix extends string = ''> = {
  [K in keyof T & string]-?: IsGroup<T[K]> extends true ? SettingKey<NonNullable<T[K]>, `${Prefix}${K}.`> : `${Prefix}${K}`
}[keyof T & string]

/** The resolved value of the setting `K`, as ImConfig holds it. */
export type SettingValue<K extends string, T = ImConfig> = K extends `${infer Head}.${infer Rest}`
  ? Head extends keyof T
    ? SettingValue<Rest, NonNullable<T[Head]>>
    : never
  : K extends keyof T
    ? NonNullable<T[K]>
    : never

export interface Setting<K extends string = string> {
  readonly key: K
  readonly env: string
  readonly kind: SettingKind<unknown>
  /** The value when neither the file nor the environment sets it; absent: the setting stays unset. */
  readonly defaultValue?: (earlier: EarlierSettings) => unknown
  /** The default as the docs show it, where the value does not say it well (`any`, `(off)`). */
  readonly defaultText?: string
  /** The docs' explanation. */
  readonly doc: string
  /**
   * Settings with the same `alternatives` name exclude each other (the JWT key sources): at most
   * one may be set, and one set in the environment replaces the file's, so a file written for
   * development (a secret) runs in production with IM_JWT_JWKS_URL set.
   */
  readonly alternatives?: string
}

export interface SettingSpec<V> {
  readonly env: string
  readonly kind: SettingKind<V>
  /** A value, or a function of the settings read before this one. */
  readonly default?: V | ((earlier: EarlierSettings) => V)
  readonly defaultText?: string
  readonly doc: string
  readonly alternatives?: string
}

/** A row of the table, typed by its key: the kind must read, and the default be, what ImConfig holds there. */
export function setting<const K extends SettingKey>(key: K, spec: SettingSpec<SettingValue<K>>): Setting<K> {
  const { default: fallback, ...rest } = spec
  const defaultValue =
    fallback === undefined ? undefined : typeof fallback === 'function' ? (fallback as (earlier: EarlierSettings) => unknown) : () => fallback
  return { key, ...rest, ...(defaultValue !== undefined ? { defaultValue } : {}) }
}

/** A variable the node reads outside ImConfig (the CLI's log level): listed and documented, not resolved. */
export interface EnvironmentOnlySetting {
  readonly env: string
  readonly values: string
  readonly defaultText: string
  readonly doc: string
}
