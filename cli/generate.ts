/**
 * `im generate [--check] [--watch] [--hubs <dir>] [--out <dir>]`: typed clients, publishers, C#
 * records and an AsyncAPI document from the hubs (src/codegen/). --check writes nothing, prints a
 * diff per stale file and the breaking changes, and fails once at the end.
 */
import { watch } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { dirname, resolve } from 'node:path'
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
}

const DEBOUNCE_MS = 150

export async function generateCommand(options: GenerateCommandOptions): Promise<void> {
  const config = await loadConfig(options.config)
  const run = (): GenerateResult => generate({
    hubsDir: options.hubs ?? config.hubsDir,
    outDir: options.out ?? config.generatedDir,
    pathPrefix: config.hubs.pathPrefix,
    check: options.check ?? false,
  })
  if (!options.watch) {
    const result = run()
    report(result, options.check ?? false)
    if (options.check && result.stale.length > 0) process.exitCode = 1
    return
  }
  await watchLoop(run, options.hubs ?? config.hubsDir)
}

function report(result: GenerateResult, check: boolean): void {
  const ms = `${Math.round(result.elapsedMs)} ms`
  const hubs = `${result.model.hubs.length} hub${result.model.hubs.length === 1 ? '' : 's'}`
  for (const change of result.breaking) {
    process.stderr.write(`${check ? 'breaking' : 'warning: breaking'}: ${formatBreakingChange(change)}\n`)
  }
  if (!check) {
    const changed = result.written.length + result.deleted.length
    process.stdout.write(`im generate: ${hubs}, ${result.files.size} files, ${changed === 0 ? 'all up to date' : `${result.written.length} written, ${result.deleted.length} deleted`} in ${ms}\n`)
    return
  }
  if (result.stale.length === 0) {
    process.stdout.write(`im generate --check: ${result.files.size} files up to date (${hubs}, ${ms})\n`)
    return
  }
  for (const file of result.stale) process.stdout.write(file.diff)
  process.stdout.write(`\nim generate --check: ${result.stale.length} generated file${result.stale.length === 1 ? ' is' : 's are'} stale (${ms}):\n`)
  for (const file of result.stale) process.stdout.write(`  ${file.path} (${file.reason})\n`)
  process.stdout.write('Run `npm run generate` and commit the result.\n')
}

/** Regenerates when a hub or a file it reads changes; problems are printed and the watch goes on. */
async function watchLoop(run: () => GenerateResult, hubsDir: string): Promise<void> {
  let watchers: FSWatcher[] = []
  let timer: NodeJS.Timeout | undefined
  const once = (): void => {
    let sources: readonly string[] = []
    try {
      const result = run()
      report(result, false)
      sources = result.sourceFiles
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    }
    // Watch the folders of every file the hubs read, so a change to an imported type counts too.
    const folders = new Set([resolve(hubsDir), ...sources.map((f) => dirname(f))])
    for (const w of watchers) w.close()
    watchers = [...folders].map((folder) => watch(folder, (_event, file) => {
      if (file && !/\.[cm]?[jt]s$/.test(String(file))) return
      clearTimeout(timer)
      timer = setTimeout(once, DEBOUNCE_MS)
    }))
  }
  once()
  process.stdout.write('im generate: watching for changes (Ctrl+C to stop)\n')
  await new Promise<void>((done) => {
    process.once('SIGINT', () => {
      clearTimeout(timer)
      for (const w of watchers) w.close()
      done()
    })
  })
}
