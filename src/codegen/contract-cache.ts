/**
 * A disk cache of the contracts read from hub sources at start-up (read-hub-sources.ts), so that
 * a node whose hubs did not change never loads the analyzer: reading them costs seconds and over a
 * hundred MiB of TypeScript compiler, a cache hit costs hashing the files they came from.
 *
 * An entry is keyed by the hub classes and files asked for, and holds the SHA-256 of every
 * project file the analysis read (the hubs and everything they import, IMService's own sources
 * included) and of the analyzer's own files; any change to one of them is a miss. Entries live in
 * `node_modules/.cache/imservice/` of the working directory (where build tools keep theirs), or
 * in the system's temporary folder when there is no node_modules. A cache that cannot be read or
 * written is a miss, never an error.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
// Types only: this module must not load the analyzer (ts-morph).
import type { HubContract, HubSource } from './read-hub-sources.js'

const SHAPE = 1

interface Entry {
  readonly shape: typeof SHAPE
  readonly analyzer: string
  readonly sources: readonly HubSource[]
  /** Every file the analysis read, with its SHA-256. */
  readonly files: Readonly<Record<string, string>>
  readonly contracts: readonly (HubContract | null)[]
}

export function cacheFolder(cwd = process.cwd()): string {
  const modules = join(cwd, 'node_modules')
  return existsSync(modules) ? join(modules, '.cache', 'imservice') : join(tmpdir(), 'imservice-cache')
}

function entryPath(sources: readonly HubSource[], folder: string): string {
  return join(folder, `hub-contracts-${sha(JSON.stringify(sources)).slice(0, 16)}.json`)
}

/** The cached contracts of these sources, or undefined when any file they were read from changed. */
export function readCachedContracts(sources: readonly HubSource[], folder = cacheFolder()): readonly (HubContract | undefined)[] | undefined {
  try {
    const entry = JSON.parse(readFileSync(entryPath(sources, folder), 'utf8')) as Entry
    if (entry.shape !== SHAPE || entry.analyzer !== analyzerHash() || JSON.stringify(entry.sources) !== JSON.stringify(sources)) return undefined
    for (const [file, hash] of Object.entries(entry.files)) if (fileHash(file) !== hash) return undefined
    return entry.contracts.map((c) => c ?? undefined)
  } catch {
    return undefined
  }
}

export function writeCachedContracts(sources: readonly HubSource[], files: readonly string[], contracts: readonly (HubContract | undefined)[], folder = cacheFolder()): void {
  try {
    const entry: Entry = {
      shape: SHAPE,
      analyzer: analyzerHash(),
      sources,
      files: Object.fromEntries(files.map((f) => [f, fileHash(f)])),
      contracts: contracts.map((c) => c ?? null),
    }
    mkdirSync(folder, { recursive: true })
    const path = entryPath(sources, folder)
    // Written aside and renamed, so that a node starting meanwhile never reads half an entry.
    const temporary = `${path}.${process.pid}.tmp`
    writeFileSync(temporary, JSON.stringify(entry))
    renameSync(temporary, path)
  } catch {
    // A read-only file system: every start reads the sources.
  }
}

let analyzer: string | undefined

/** The analyzer's own files: a new IMService version may read the same sources differently. */
function analyzerHash(): string {
  if (analyzer !== undefined) return analyzer
  const folder = dirname(fileURLToPath(import.meta.url))
  const hash = createHash('sha256')
  for (const name of readdirSync(folder).sort()) if (/\.[cm]?[jt]s$/.test(name)) hash.update(name).update(readFileSync(join(folder, name)))
  analyzer = hash.digest('hex')
  return analyzer
}

function fileHash(file: string): string {
  try {
    return sha(readFileSync(file))
  } catch {
    return 'missing'
  }
}

function sha(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
