/**
 * Reads every row of the settings table from im.config.ts and the environment, in table order:
 * the environment wins over the file, an empty variable counts as unset, a kind reads and checks
 * the value, and a setting neither sets takes its default. The result is the nested tree that
 * ImConfig describes, plus where each value came from for messages about rules between settings.
 */
import { invalid, settingSource, type Env, type SettingSource } from './config-values.js'
import type { EarlierSettings } from './setting-kinds.js'
import type { Setting } from './setting.js'

export interface SettingsRead {
  /** The settings as a nested object: `{ port, nats: { url, ... }, hubs: { ... } }`. */
  readonly tree: Record<string, unknown>
  readonly valueOf: (key: string) => unknown
  /** Where the setting `key` was set, or undefined when it has its default. */
  readonly sourceOf: (key: string) => SettingSource | undefined
}

export function readSettings(rows: readonly Setting[], input: object, env: Env): SettingsRead {
  const ignoredFileValues = fileValuesReplacedByEnvironment(rows, input, env)
  const values = new Map<string, unknown>()
  const sources = new Map<string, SettingSource>()
  const earlier: EarlierSettings = { valueOf: (key) => values.get(key) }
  for (const row of rows) {
    const fileValue = ignoredFileValues.has(row.key) ? undefined : valueAt(input, row.key)
    const source = settingSource(env, fileValue, { key: row.key, envVar: row.env })
    if (source !== undefined) sources.set(row.key, source)
    const value = source !== undefined ? row.kind.read(source, earlier) : row.defaultValue?.(earlier)
    if (value !== undefined) values.set(row.key, value)
  }
  const tree: Record<string, unknown> = {}
  for (const [key, value] of values) setAt(tree, key, value)
  return { tree, valueOf: (key) => values.get(key), sourceOf: (key) => sources.get(key) }
}

/**
 * Of settings that are alternatives to each other, at most one may be set; one set in the
 * environment replaces any set in the file. Returns the keys whose file values are to be ignored.
 */
function fileValuesReplacedByEnvironment(rows: readonly Setting[], input: object, env: Env): Set<string> {
  const ignored = new Set<string>()
  const groups = new Map<string, Setting[]>()
  for (const row of rows) if (row.alternatives !== undefined) groups.set(row.alternatives, [...(groups.get(row.alternatives) ?? []), row])
  for (const [name, group] of groups) {
    const inEnvironment = group.some((row) => env[row.env] !== undefined && env[row.env] !== '')
    if (inEnvironment) for (const row of group) ignored.add(row.key)
    const set = group
      .map((row) => settingSource(env, inEnvironment ? undefined : valueAt(input, row.key), { key: row.key, envVar: row.env }))
      .filter((source): source is SettingSource => source !== undefined)
    if (set.length > 1) {
      const names = group.map((row) => row.env)
      const choices = `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`
      throw invalid(`only one ${name} may be set (${choices}), got ${set.map((source) => source.label).join(' and ')}`)
    }
  }
  return ignored
}

/** The value at a dotted key of a plain object, or undefined when a group on the way is missing. */
export function valueAt(tree: object, key: string): unknown {
  let node: unknown = tree
  for (const part of key.split('.')) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, part)) return undefined
    node = (node as Record<string, unknown>)[part]
  }
  return node
}

function setAt(tree: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let node = tree
  for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>
  node[parts.at(-1)!] = value
}
