/**
 * The kinds of value a setting holds. A kind reads one source (a value from im.config.ts or its
 * IM_* variable) into the typed value or refuses it with a message naming the source, and says in
 * a few words what it takes, for the settings table of docs/configuration.md.
 */
import { invalid, readBoolean, readInteger, readList, readString, show, type SettingSource } from './config-values.js'

/** What a kind may ask about settings read before it (table order): their values, defaults applied. */
export interface EarlierSettings {
  valueOf(key: string): unknown
}

export interface SettingKind<T> {
  /** What the setting takes, for the docs table: `50 to 60000`, `true or false`, `text`. */
  readonly values: string
  read(source: SettingSource, earlier: EarlierSettings): T
}

export function integer(min: number, max: number): SettingKind<number> {
  return { values: `${min} to ${max}`, read: (source) => readInteger(source, min, max) as number }
}

export function text(): SettingKind<string> {
  return { values: 'text', read: (source) => readString(source) as string }
}

/** Kept byte for byte and never echoed in a message. */
export function secret(): SettingKind<string> {
  return { values: 'secret text', read: (source) => readString(source, { secret: true }) as string }
}

export function flag(): SettingKind<boolean> {
  return { values: 'true or false (1 or 0)', read: (source) => readBoolean(source) as boolean }
}

/** A comma separated list in the environment, an array of strings in im.config.ts. */
export function list(): SettingKind<readonly string[]> {
  return { values: 'list', read: (source) => Object.freeze([...(readList(source) as readonly string[])]) }
}

/** Text that must match `pattern`; `rule` says what that means in the refusal. */
export function matching(pattern: RegExp, rule: string, values: string): SettingKind<string> {
  return {
    values,
    read(source) {
      const value = readString(source) as string
      if (!pattern.test(value)) throw invalid(`${source.label} must ${rule}, got ${show(value)}`)
      return value
    },
  }
}

/** One value of `choices`, as written. */
export function oneOf<const C extends string>(choices: readonly C[]): SettingKind<C> {
  return {
    values: choices.join(', '),
    read(source) {
      const value = readString(source) as string
      if (!(choices as readonly string[]).includes(value)) throw invalid(`${source.label} must be one of ${choices.join(', ')}, got ${show(value)}`)
      return value as C
    },
  }
}

/** A list whose entries each pass `check`, which returns why an entry is wrong. */
export function listOf(values: string, check: (entry: string, source: SettingSource) => string): SettingKind<readonly string[]> {
  return { values, read: (source) => Object.freeze((readList(source) as readonly string[]).map((entry) => check(entry, source))) }
}
