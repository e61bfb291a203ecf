/**
 * `im generate [--check [--against <ref>]] [--accept-breaking] [--watch] [--hubs <dir>] [--out <dir>]`:
 * typed clients, publishers, C# records and an AsyncAPI document from the hubs (src/codegen/).
 * Hubs that do not compile are refused with `file:line: message` and nothing is written or
 * deleted. --check writes nothing, prints a diff per stale file and the breaking changes, and
 * fails once at the end; --against compares the contract with the one committed at a git
 * revision. A breaking change is refused (by a write too) unless the hub's `@Hub({ version })`
 * went up or --accept-breaking is given (docs/codegen.md, "Breaking changes").
 */
import { watch } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { modelAtRevision } from '../src/codegen/baseline.js'
import { formatBreakingChange } from '../src/codegen/contract-diff.js'
import { generate } from '../src/codegen/generate.js'
import type { GenerateResult } from '../src/codegen/generate.js'
import { loadConfig } from './load.js'

export interface GenerateCommandOptions {
  readonly config: string
  readonly check?: boolean
  readonly watch?: boolean
  readonly hubs?: string
  readonly out?: string
  /** A git revision whose committed hub-model.json is the contract (with --check). */
  readonly against?: string
  readonly acceptBreaking?: boolean
}

const DEBOUNCE_MS = 150

export async function generateCommand(options: GenerateCommandOptions): Promise<void> {
  const config = await loadConfig(options.config)
  const outDir = options.out ?? config.generatedDir
  const check = options.check ?? false
  if (options.against !== undefined && !check) throw new Error('--against compares without writing; use it with --check')
  const revision = options.against === undefined ? undefined : modelAtRevision(options.against, outDir)
  if (revision && !revision.model) process.stdout.write(`im generate: ${revision.ref} has no ${outDir}/hub-model.json; no contract to compare with\n`)
  const run = (): GenerateResult => generate({
    hubsDir: options.hubs ?? config.hubsDir,
    outDir,
    pathPrefix: config.hubs.pathPrefix,
    envelopeCasing: config.hubs.envelopeCasing,
    check,
    ...(revision ? { baseline: revision.model ?? null } : {}),
    ...(options.acceptBreaking ? { acceptBreaking: true } : {}),
  })
  if (!options.watch) {
    const result = run()
    report(result, check, revision?.ref)
    if (result.refused || (check && (result.stale.length > 0 || (result.breaking.length > 0 && !options.acceptBreaking)))) process.exitCode = 1
    return
  }
  await watchLoop(run, options.hubs ?? config.hubsDir)
}

function report(result: GenerateResult, check: boolean, against: string | undefined): void {
  const ms = `${Math.round(result.elapsedMs)} ms`
  const hubs = `${result.model.hubs.length} hub${result.model.hubs.length === 1 ? '' : 's'}`
  const since = against ? ` (since ${against})` : ''
  for (const change of result.acknowledged) process.stderr.write(`breaking, acknowledged by a raised @Hub version${since}: ${formatBreakingChange(change)}\n`)
  for (const change of result.breaking) process.stderr.write(`breaking${since}: ${formatBreakingChange(change)}\n`)
  if (result.refused) {
    process.stderr.write(`im generate: ${result.breaking.length} breaking change${result.breaking.length === 1 ? '' : 's'}; nothing written. `
      + 'Raise the hub\'s @Hub({ version }) to acknowledge them, or run with --accept-breaking (docs/codegen.md, "Breaking changes").\n')
    return
  }
  if (!check) {
    const changed = result.written.length + result.deleted.length
    process.stdout.write(`im generate: ${hubs}, ${result.files.size} files, ${changed === 0 ? 'all up to date' : `${result.written.length} written, ${result.deleted.length} deleted`} in ${ms}\n`)
    return
  }
  if (result.breaking.length > 0) process.stderr.write(`im generate --check: ${result.breaking.length} breaking change${result.breaking.length === 1 ? '' : 's'}${since}; raise the hub's @Hub({ version }) to acknowledge them\n`)
  if (result.stale.length === 0) {
    process.stdout.write(`im generate --check: ${result.files.size} files up to date (${hubs}, ${ms})\n`)
    return
  }
  for (const file of result.stale) process.stdout.write(file.diff)
  process.stdout.write(`\nim generate --check: ${result.stale.length} generated file${result.stale.length === 1 ? ' is' : 's are'} stale (${ms}):\n`)
  for (const file of result.stale) process.stdout.write(`  ${file.path} (${file.reason})\n`)
  process.stdout.write('Run `npm run generate` and commit the result.\n')
}

/**
 * Regenerates when a hub or a file it reads changes. A run that fails (hubs that do not compile,
 * a refused break) prints why and leaves the last good output in place; the watch goes on, over
 * every folder any run has read from, so fixing an imported file is seen too.
 */
async function watchLoop(run: () => GenerateResult, hubsDir: string): Promise<void> {
  let watchers = new Map<string, FSWatcher>()
  let timer: NodeJS.Timeout | undefined
  const folders = new Set([resolve(hubsDir)])
  const once = (): void => {
    try {
      const result = run()
      report(result, false, undefined)
      for (const file of result.sourceFiles) folders.add(dirname(file))
    } catch (error) {
      process.stderr.write(`im generate: ${error instanceof Error ? error.message : String(error)}\n`)
      process.stderr.write('im generate: the last good output is kept; watching for changes\n')
    }
    for (const folder of folders) {
      if (watchers.has(folder)) continue
      const watcher = watch(folder, (_event, file) => {
        if (file && !/\.[cm]?[jt]s$/.test(String(file))) return
        clearTimeout(timer)
        timer = setTimeout(once, DEBOUNCE_MS)
      })
      // A watched folder that disappears is dropped, not a crash; it is watched again once a run reads it.
      watcher.on('error', () => {
        watcher.close()
        watchers.delete(folder)
        folders.delete(folder)
      })
      watchers.set(folder, watcher)
    }
  }
  once()
  process.stdout.write('im generate: watching for changes (Ctrl+C to stop)\n')
  await new Promise<void>((done) => {
    const stop = (): void => {
      clearTimeout(timer)
      for (const w of watchers.values()) w.close()
      watchers = new Map()
      done()
    }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
  })
}
