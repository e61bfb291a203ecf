/**
 * `im init [dir]`: scaffolds a team project that serves at once: im.config.ts, hubs/ with an
 * example hub, a tsconfig with the options the decorators need, npm scripts and .gitignore.
 * Files that exist are left alone (and named); package.json is merged, never overwritten.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join, relative, resolve } from 'node:path'
import { CONFIG, DEV_DEPENDENCIES, EXAMPLE_HUB, GITIGNORE, OVERRIDES, SCRIPTS, TSCONFIG } from './init-templates.js'

interface PackageManifest {
  name?: string
  private?: boolean
  type?: string
  scripts?: Record<string, string>
  devDependencies?: Record<string, string>
  overrides?: Record<string, unknown>
  [key: string]: unknown
}

export function init(dir: string | undefined): void {
  const root = resolve(dir ?? '.')
  mkdirSync(join(root, 'hubs'), { recursive: true })
  const written: string[] = []
  const kept: string[] = []
  const write = (file: string, text: string): void => {
    const path = join(root, file)
    if (existsSync(path)) kept.push(file)
    else {
      writeFileSync(path, text)
      written.push(file)
    }
  }
  write('im.config.ts', CONFIG)
  write(join('hubs', 'greetings-hub.ts'), EXAMPLE_HUB)
  write('tsconfig.json', JSON.stringify(TSCONFIG, null, 2) + '\n')
  write('.gitignore', GITIGNORE)
  const manifest = mergeManifest(root)

  const out = (line: string): void => void process.stdout.write(line + '\n')
  out(`im init: ${relative(process.cwd(), root) || '.'}`)
  for (const file of [...written, 'package.json']) out(`  wrote ${file}`)
  for (const file of kept) out(`  kept ${file} (exists)`)
  if (manifest.warning) out(`  warning: ${manifest.warning}`)
  out('Next: npm install (TypeScript for `npm run check`), npm run generate, npm run serve')
}

/** Adds the scripts, "type": "module", dev dependencies and overrides a project lacks; keeps what it has. */
function mergeManifest(root: string): { warning?: string } {
  const path = join(root, 'package.json')
  const manifest: PackageManifest = existsSync(path)
    ? (JSON.parse(readFileSync(path, 'utf8')) as PackageManifest)
    : { name: basename(root).toLowerCase().replace(/[^a-z0-9._-]/g, '-'), private: true }
  // The hubs and im.config.ts are ES modules that import this package, which is ES modules only.
  manifest.type ??= 'module'
  manifest.scripts = { ...SCRIPTS, ...manifest.scripts }
  manifest.devDependencies = { ...DEV_DEPENDENCIES, ...manifest.devDependencies }
  manifest.overrides = { ...OVERRIDES, ...manifest.overrides }
  writeFileSync(path, JSON.stringify(manifest, null, 2) + '\n')
  if (manifest.type !== 'module') return { warning: `package.json says "type": "${manifest.type}"; hubs and im.config.ts are loaded as ES modules only with "type": "module" (or name them .mts)` }
  return {}
}
