/**
 * One run of `im generate`: analyze -> render -> compare with the committed contract -> write or
 * check. The CLI prints what this returns; tests call it directly.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { analyzeHubs } from './analyze.js'
import { breakingChanges } from './contract-diff.js'
import type { BreakingChange } from './contract-diff.js'
import type { HubModel } from './model.js'
import { MODEL_FILE, parseModel, renderOutputs } from './outputs.js'
import { findStale, writeOutputs } from './write.js'
import type { StaleFile } from './write.js'

export interface GenerateOptions {
  readonly hubsDir: string
  readonly outDir: string
  /** Paths in headers and the model are relative to this; default the working directory. */
  readonly root?: string
  readonly pathPrefix?: string
  /** Compare instead of writing. */
  readonly check?: boolean
}

export interface GenerateResult {
  readonly model: HubModel
  readonly files: ReadonlyMap<string, string>
  /** With `check`: the files that differ from what the output folder holds. */
  readonly stale: readonly StaleFile[]
  readonly written: readonly string[]
  readonly deleted: readonly string[]
  /** Against the hub-model.json found in the output folder before this run. */
  readonly breaking: readonly BreakingChange[]
  /** The project files that were read (for --watch). */
  readonly sourceFiles: readonly string[]
  readonly elapsedMs: number
}

export function generate(options: GenerateOptions): GenerateResult {
  const started = performance.now()
  const outDir = resolve(options.outDir)
  const { model, sourceFiles } = analyzeHubs({ hubsDir: options.hubsDir, ...(options.root ? { root: options.root } : {}), ...(options.pathPrefix ? { pathPrefix: options.pathPrefix } : {}) })
  const files = renderOutputs(model)
  const committed = readCommittedModel(outDir)
  const breaking = committed ? breakingChanges(committed, model) : []
  const stale = options.check ? findStale(outDir, files) : []
  const { written, deleted } = options.check ? { written: [], deleted: [] } : writeOutputs(outDir, files)
  return { model, files, stale, written, deleted, breaking, sourceFiles, elapsedMs: performance.now() - started }
}

/** The contract of the last generation, or undefined when there is none (or it is unreadable). */
export function readCommittedModel(outDir: string): HubModel | undefined {
  try {
    const model = parseModel(readFileSync(join(outDir, MODEL_FILE), 'utf8'))
    return model.schema === 1 ? model : undefined
  } catch {
    return undefined
  }
}
