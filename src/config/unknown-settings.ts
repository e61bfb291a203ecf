/**
 * Names that are not settings stop the node: an IM_* variable or an im.config.ts key (at any
 * depth) that no row of the table has is a typo or a stale name, and ignoring it would run the node
 * with a default nobody asked for (`IM_JWT_SECRETS` would leave authentication off). The message
 * names each one and the closest valid name.
 */
import { closestName, type Candidate } from './closest-name.js'
import { invalid, show, type Env } from './config-values.js'
import type { EnvironmentOnlySetting, Setting } from './setting.js'

const PREFIX = 'IM_'
const SEE_DOCS = 'docs/configuration.md lists the settings'

export interface KnownNames {
  readonly rows: readonly Setting[]
  readonly environmentOnly: readonly EnvironmentOnlySetting[]
  /** IM_* variables that are not settings of the node but may be present. */
  readonly ignoredVariables: readonly string[]
}

/** Throws IM_CONFIG_INVALID naming every unknown variable and key; returns when there is none. */
export function refuseUnknownNames(known: KnownNames, input: object, env: Env): void {
  const problems = [...unknownVariables(known, env), ...unknownKeys(known.rows, input)]
  if (problems.length > 0) throw invalid(problems.join(' '))
}

function unknownVariables(known: KnownNames, env: Env): string[] {
  const names = new Set([...known.rows.map((row) => row.env), ...known.environmentOnly.map((entry) => entry.env), ...known.ignoredVariables])
  const candidates: Candidate[] = [
    ...[...names].filter((name) => !known.ignoredVariables.includes(name)).map((name) => ({ text: name, suggestion: name })),
    // IM_HUBS_KEEP_ALIVE_INTERVAL_MS, a name built from the key, leads to the variable the key really has.
    ...known.rows.map((row) => ({ text: PREFIX + screamingSnake(row.key), suggestion: row.env })),
  ]
  return Object.keys(env)
    .filter((name) => name.startsWith(PREFIX) && !names.has(name))
    .sort()
    .map((name) => notASetting(name, closestName(name, candidates)))
}

function unknownKeys(rows: readonly Setting[], input: object): string[] {
  const leaves = new Set(rows.map((row) => row.key))
  const groups = new Map<string, string[]>()
  for (const row of rows) {
    const parts = row.key.split('.')
    for (let depth = 1; depth < parts.length; depth++) {
      const group = parts.slice(0, depth).join('.')
      groups.set(group, [...(groups.get(group) ?? []), parts[depth]!])
    }
  }
  const candidates: Candidate[] = [...leaves, ...groups.keys()].map((key) => ({ text: key, suggestion: key }))
  for (const row of rows) candidates.push({ text: row.env, suggestion: row.key })
  const byLastName: Candidate[] = rows.map((row) => ({ text: row.key.split('.').at(-1)!, suggestion: row.key }))

  const problems: string[] = []
  const visit = (node: object, prefix: string): void => {
    for (const [name, value] of Object.entries(node)) {
      const key = prefix + name
      if (leaves.has(key)) continue
      const children = groups.get(key)
      if (children === undefined) {
        problems.push(notASetting(`config key ${key}`, closestName(key, candidates) ?? closestName(name, byLastName)))
        continue
      }
      if (value === undefined) continue
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        problems.push(`config key ${key} must be a group of settings like { ${[...new Set(children)].slice(0, 3).join(', ')}, ... }, got ${show(value)}.`)
        continue
      }
      visit(value, `${key}.`)
    }
  }
  visit(input, '')
  return problems
}

function notASetting(what: string, suggestion: string | undefined): string {
  return suggestion !== undefined ? `${what} is not a setting; did you mean ${suggestion}?` : `${what} is not a setting (${SEE_DOCS}).`
}

/** `hubs.keepAliveIntervalMs` -> `HUBS_KEEP_ALIVE_INTERVAL_MS`. */
function screamingSnake(key: string): string {
  return key
    .replace(/\./g, '_')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()
}
