/**
 * A disk cache of the contracts read from hub sources at start-up (read-hub-sources.ts), so that
 * a node whose hubs did not change never loads the analyzer: reading them costs seconds and over a
 * hundred MiB of TypeScript compiler, a cache hit costs hashing the files they came from.
 *
 * An entry is kept per hub class and file, and holds the SHA-256 of every
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
  readonly source: HubSource
  /** Every file the analysis read, with its SHA-256. */
  readonly files: Readonly<Record<string, string>>
  readonly contract: HubContract | null
}

export function cacheFolder(cwd = process.cwd()): string {
  const modules = join(cwd, 'node_modules')
  return existsSync(modules) ? join(modules, '.cache', 'imservice') : join(tmpdir(), 'imservice-cache')
}

/** One entry per hub class, so that servers given different sets of hubs share what they read. */
function entryPath(source: HubSource, folder: string): string {
  return join(folder, `hub-contract-${sha(JSON.stringify([source.className, source.file])).slice(0, 16)}.json`)
}

/** The cached contract of one hub class; `missing` when there is none or a file it was read from changed. */
export function readCachedContract(source: HubSource, folder = cacheFolder()): HubContract | undefined | 'missing' {
  try {
    const entry = JSON.parse(readFileSync(entryPath(source, folder), 'utf8')) as Entry
    if (entry.shape !== SHAPE || entry.analyzer !== analyzerHash() || entry.source.className !== source.className || entry.source.file !== source.file) return 'missing'
    for (const [file, hash] of Object.entries(entry.files)) if (fileHash(file) !== hash) return 'missing'
    return entry.contract ?? undefined
  } catch {
    return 'missing'
  }
}

/** The cached contracts of these sources, or undefined when any of them must be read again. */
export function readCachedContracts(sources: readonly HubSource[], folder = cacheFolder()): readonly (HubContract | undefined)[] | undefined {
  const contracts: (HubContract | undefined)[] = []
  for (const source of sources) {
    const contract = readCachedContract(source, folder)
    if (contract === 'missing') return undefined
    contracts.push(contract)
  }
  return contracts
}

export function writeCachedContracts(sources: readonly HubSource[], files: readonly string[], contracts: readonly (HubContract | undefined)[], folder = cacheFolder()): void {
  try {
    const hashes = Object.fromEntries(files.map((f) => [f, fileHash(f)]))
    mkdirSync(folder, { recursive: true })
    sources.forEach((source, i) => {
      const entry: Entry = { shape: SHAPE, analyzer: analyzerHash(), source, files: hashes, contract: contracts[i] ?? null }
      const path = entryPath(source, folder)
      // Written aside and renamed, so that a node starting meanwhile never reads half an entry.
      const temporary = `${path}.${process.pid}.tmp`
      writeFileSync(temporary, JSON.stringify(entry))
      renameSync(temporary, path)
    })
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
