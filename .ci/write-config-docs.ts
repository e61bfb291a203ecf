/**
 * `npm run docs:config`: writes the settings table of docs/configuration.md from the settings
 * table in src/config/settings.ts. test/unit/config/settings-doc.test.ts fails until it is rerun
 * after a setting changed.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { renderSettingsTable, withSettingsTable } from '../src/config/settings-doc.js'
import { ENVIRONMENT_ONLY_SETTINGS, SETTINGS } from '../src/config/settings.js'

const page = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'configuration.md')
const before = readFileSync(page, 'utf8')
const after = withSettingsTable(before, renderSettingsTable(SETTINGS, ENVIRONMENT_ONLY_SETTINGS))
if (after === before) console.log('docs/configuration.md: the settings table is current')
else {
  writeFileSync(page, after)
  console.log('docs/configuration.md: settings table written')
}
