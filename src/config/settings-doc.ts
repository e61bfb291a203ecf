/**
 * The settings table of docs/configuration.md, written from the settings table in code so that the
 * two cannot differ: `npm run docs:config` puts it between the markers, and a test fails when the
 * page holds anything else there.
 */
import { ImError, ImErrorCode } from '../errors.js'
import type { EnvironmentOnlySetting, Setting } from './setting.js'

export const SETTINGS_DOC_BEGIN = '<!-- settings table: written by `npm run docs:config` from src/config/settings.ts; edit it there -->'
export const SETTINGS_DOC_END = '<!-- end of settings table -->'

export function renderSettingsTable(rows: readonly Setting[], environmentOnly: readonly EnvironmentOnlySetting[]): string {
  const lines = ['| setting (im.config.ts) | variable | default | values | meaning |', '| --- | --- | --- | --- | --- |']
  for (const row of rows) {
    lines.push(line([code(row.key), code(row.env), defaultText(row), row.kind.values, row.doc]))
  }
  for (const entry of environmentOnly) lines.push(line(['', code(entry.env), entry.defaultText, entry.values, entry.doc]))
  return lines.join('\n')
}

/** `page` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function withSettingsTable(page: string, table: string): string {
  const begin = page.indexOf(SETTINGS_DOC_BEGIN)
  const end = page.indexOf(SETTINGS_DOC_END)
  if (begin === -1 || end < begin) throw new ImError(ImErrorCode.ConfigInvalid, `the page has no settings table markers (${SETTINGS_DOC_BEGIN} ... ${SETTINGS_DOC_END})`)
  return `${page.slice(0, begin + SETTINGS_DOC_BEGIN.length)}\n${table}\n${page.slice(end)}`
}

function defaultText(row: Setting): string {
  if (row.defaultText !== undefined) return row.defaultText
  // Defaults that depend on other settings have their defaultText; the rest take nothing.
  const value = row.defaultValue?.({ valueOf: () => undefined })
  if (value === undefined) return ''
  return Array.isArray(value) ? value.join(', ') : String(value)
}

function line(cells: readonly string[]): string {
  return `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`
}

function code(text: string): string {
  return `\`${text}\``
}
