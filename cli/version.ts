/** This package's version, read from its package.json (beside cli/ in the sources, two up from dist/cli/). */
import { readFileSync } from 'node:fs'

export function packageVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as { name?: unknown; version?: unknown }
      if (manifest.name === 'imservice' && typeof manifest.version === 'string') return manifest.version
    } catch {
      // not this one: try the next candidate
    }
  }
  throw new Error('cannot find the package.json of imservice')
}
