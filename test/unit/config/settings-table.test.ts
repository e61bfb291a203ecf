/**
 * The settings table drives the resolver and the docs: every row's default, bounds and variable
 * are checked here through `resolveConfig`, and docs/configuration.md must hold the table the
 * code writes.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/load-config.js'
import { valueAt } from '../../../src/config/read-settings.js'
import { renderSettingsTable, withSettingsTable } from '../../../src/config/settings-doc.js'
import { ENVIRONMENT_ONLY_SETTINGS, NOT_NODE_SETTINGS, SETTINGS } from '../../../src/config/settings.js'
import type { Setting } from '../../../src/config/setting.js'
import { ImErrorCode } from '../../../src/errors.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const DOCS = new URL('../../../docs/configuration.md', import.meta.url)

/** What a row needs beside itself to be read: the JWT group exists only with a key. */
function companions(row: Setting): Record<string, string> {
  return row.key.startsWith('jwt.') && row.alternatives === undefined ? { IM_JWT_SECRET: SECRET } : {}
}

const integerRows = SETTINGS.filter((row) => /^\d+ to \d+$/.test(row.kind.values)).map((row) => {
  const [min, max] = row.kind.values.split(' to ').map(Number) as [number, number]
  return { row, min, max }
})

describe('the settings table', () => {
  it('names each key and each variable once, every variable under IM_', () => {
    const keys = SETTINGS.map((row) => row.key)
    const variables = [...SETTINGS.map((row) => row.env), ...ENVIRONMENT_ONLY_SETTINGS.map((entry) => entry.env)]
    expect(new Set(keys).size).toBe(keys.length)
    expect(new Set(variables).size).toBe(variables.length)
    expect(variables.filter((name) => !/^IM_[A-Z0-9_]+$/.test(name))).toEqual([])
    expect(NOT_NODE_SETTINGS.filter((name) => variables.includes(name))).toEqual([])
    expect(SETTINGS.filter((row) => row.doc.trim() === '').map((row) => row.key)).toEqual([])
  })

  it('is what docs/configuration.md shows (run `npm run docs:config` after changing a setting)', () => {
    const page = readFileSync(DOCS, 'utf8')
    expect(page).toBe(withSettingsTable(page, renderSettingsTable(SETTINGS, ENVIRONMENT_ONLY_SETTINGS)))
  })

  it('gives every setting its default when nothing sets it, and leaves one without a default unset', () => {
    const config = resolveConfig({}, {})
    const withJwt = resolveConfig({}, { IM_JWT_SECRET: SECRET })
    for (const row of SETTINGS) {
      const expected = row.defaultValue?.({ valueOf: (key) => valueAt(config, key) })
      const resolved = valueAt(row.key.startsWith('jwt.') && expected !== undefined ? withJwt : config, row.key)
      if (row.key === 'nodeId') expect(resolved).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{4}$/)
      else expect(resolved, row.key).toEqual(expected)
    }
  })

  it.each(integerRows)('$row.env: takes $min and $max from the environment and the file, refuses one beyond either', ({ row, min, max }) => {
    // The client timeout must exceed the keep-alive interval: keep each out of the other's way.
    // Likewise a pull must live at least two heartbeats.
    const room =
      row.key === 'hubs.keepAliveIntervalMs'
        ? { IM_CLIENT_TIMEOUT_MS: String(2 ** 31 - 1) }
        : row.key === 'hubs.clientTimeoutMs'
          ? { IM_KEEP_ALIVE_MS: '1' }
          : row.key === 'jetstream.pullExpiresMs'
            ? { IM_JETSTREAM_HEARTBEAT_MS: '500' }
            : row.key === 'jetstream.heartbeatMs'
              ? { IM_JETSTREAM_PULL_EXPIRES_MS: '60000' }
              : {}
    const env = { ...companions(row), ...room }
    const bounds = row.key === 'hubs.keepAliveIntervalMs' ? [min, max - 1] : row.key === 'hubs.clientTimeoutMs' ? [min + 1, max] : [min, max]
    for (const value of bounds) {
      expect(valueAt(resolveConfig({}, { ...env, [row.env]: String(value) }), row.key)).toBe(value)
      const file: Record<string, unknown> = {}
      row.key.split('.').reduce<Record<string, unknown>>((node, part, index, parts) => (node[part] = index === parts.length - 1 ? value : {}) as Record<string, unknown>, file)
      expect(valueAt(resolveConfig(file, env), row.key)).toBe(value)
    }
    for (const value of [min - 1, max + 1]) {
      expect(() => resolveConfig({}, { ...env, [row.env]: String(value) })).toThrow(
        expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: `${row.env} must be an integer from ${min} to ${max}, got "${value}"` }),
      )
    }
  })

  it('covers every integer setting in the bounds test above', () => {
    expect(integerRows.length).toBeGreaterThan(30)
  })
})
