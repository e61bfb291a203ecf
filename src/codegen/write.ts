/**
 * Puts the rendered files in the output folder, or (`--check`) compares them with what is there:
 * every file is compared, including generated files that should no longer exist, and each stale
 * one gets a unified diff. Only files that carry the generated-file mark are ever replaced or
 * deleted; anything else in the folder is left alone.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { isGenerated } from './header.js'
import { compare } from './type-table.js'
import { unifiedDiff } from './unified-diff.js'

export interface StaleFile {
  /** Path relative to the output folder, posix separators. */
  readonly path: string
  readonly reason: 'changed' | 'missing' | 'obsolete'
  readonly diff: string
}

export interface WriteResult {
  readonly written: readonly string[]
  readonly deleted: readonly string[]
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** Generated files under `outDir` (recursively), relative, sorted. */
export function existingGenerated(outDir: string): string[] {
  const found: string[] = []
  const walk = (dir: string): void => {
    let entries
    try {
      entries = readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      const path = join(dir, entry.name)
      if (entry.isDirectory() && entry.name !== 'node_modules') walk(path)
      else if (entry.isFile() && isGenerated(readText(path) ?? '')) found.push(relative(outDir, path).replace(/\\/g, '/'))
    }
  }
  walk(outDir)
  return found.sort(compare)
}

export function findStale(outDir: string, files: ReadonlyMap<string, string>): StaleFile[] {
  const stale: StaleFile[] = []
  for (const [path, text] of files) {
    const current = readText(join(outDir, path))
    if (current === text) continue
    stale.push({ path, reason: current === undefined ? 'missing' : 'changed', diff: unifiedDiff(current ?? '', text, path) })
  }
  for (const path of existingGenerated(outDir)) {
    if (files.has(path)) continue
    stale.push({ path, reason: 'obsolete', diff: unifiedDiff(readText(join(outDir, path)) ?? '', '', path) })
  }
  return stale.sort((a, b) => compare(a.path, b.path))
}

/** Writes the files that differ and deletes generated files that are no longer produced. */
export function writeOutputs(outDir: string, files: ReadonlyMap<string, string>): WriteResult {
  const written: string[] = []
  const deleted: string[] = []
  for (const [path, text] of files) {
    const target = join(outDir, path)
    if (readText(target) === text) continue
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, text)
    written.push(path)
  }
  for (const path of existingGenerated(outDir)) {
    if (files.has(path)) continue
    rmSync(join(outDir, path))
    deleted.push(path)
  }
  return { written, deleted }
}
