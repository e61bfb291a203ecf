/**
 * One run of `im generate`: analyze -> render -> compare with the committed contract -> write or
 * check. The CLI prints what this returns; tests call it directly.
 */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { analyzeHubs } from './analyze.js'
import { breakingChanges } from './contract-diff.js'
import type { BreakingChange } from './contract-diff.js'
import type { EnvelopeCasing, HubModel } from './model.js'
import { MODEL_FILE, parseModel, renderOutputs } from './outputs.js'
import { findStale, writeOutputs } from './write.js'
import type { StaleFile } from './write.js'

export interface GenerateOptions {
  readonly hubsDir: string
  readonly outDir: string
  /** Paths in headers and the model are relative to this; default the working directory. */
  readonly root?: string
  readonly pathPrefix?: string
  /** `hubs.envelopeCasing` of the project: the publishers, C# records and AsyncAPI schemas of envelopes and lifecycle events follow it. */
  readonly envelopeCasing?: EnvelopeCasing
  /** Compare instead of writing. */
  readonly check?: boolean
  /**
   * The contract to compare with instead of the output folder's hub-model.json (`--against`
   * reads it from a git revision); null when that revision has none.
   */
  readonly baseline?: HubModel | null
  /** Let unacknowledged breaking changes through (`--accept-breaking`). */
  readonly acceptBreaking?: boolean
}

export interface GenerateResult {
  readonly model: HubModel
  readonly files: ReadonlyMap<string, string>
  /** With `check`: the files that differ from what the output folder holds. */
  readonly stale: readonly StaleFile[]
  readonly written: readonly string[]
  readonly deleted: readonly string[]
  /**
   * Against the baseline (the hub-model.json found in the output folder before this run, or
   * `baseline`), not acknowledged by a raised `@Hub({ version })`.
   */
  readonly breaking: readonly BreakingChange[]
  /** Breaking changes of hubs whose version was raised. */
  readonly acknowledged: readonly BreakingChange[]
  /** True when unacknowledged breaking changes kept a write from happening (nothing was written). */
  readonly refused: boolean
  /** The project files that were read (for --watch). */
  readonly sourceFiles: readonly string[]
  readonly elapsedMs: number
}

export function generate(options: GenerateOptions): GenerateResult {
  const started = performance.now()
  const outDir = resolve(options.outDir)
  const { model, sourceFiles } = analyzeHubs({ hubsDir: options.hubsDir, ...(options.root ? { root: options.root } : {}), ...(options.pathPrefix ? { pathPrefix: options.pathPrefix } : {}) })
  const files = renderOutputs(model, { envelopeCasing: options.envelopeCasing ?? 'camel' })
  const committed = options.baseline === undefined ? readCommittedModel(outDir) : options.baseline ?? undefined
  const { breaking, acknowledged } = committed ? splitAcknowledged(breakingChanges(committed, model), committed, model) : { breaking: [], acknowledged: [] }
  const stale = options.check ? findStale(outDir, files) : []
  // The baseline is the contract: overwriting it with a break would make the next --check pass.
  const refused = !options.check && breaking.length > 0 && !options.acceptBreaking
  const { written, deleted } = options.check || refused ? { written: [], deleted: [] } : writeOutputs(outDir, files)
  return { model, files, stale, written, deleted, breaking, acknowledged, refused, sourceFiles, elapsedMs: performance.now() - started }
}

/** A hub whose `@Hub({ version })` went up acknowledges its breaking changes; a removed hub cannot. */
function splitAcknowledged(changes: readonly BreakingChange[], before: HubModel, after: HubModel): { breaking: BreakingChange[]; acknowledged: BreakingChange[] } {
  const breaking: BreakingChange[] = []
  const acknowledged: BreakingChange[] = []
  for (const change of changes) {
    const old = before.hubs.find((h) => h.className === change.hub)
    const now = old && after.hubs.find((h) => h.name === old.name)
    if (old && now && (now.version ?? 1) > (old.version ?? 1)) acknowledged.push(change)
    else breaking.push(change)
  }
  return { breaking, acknowledged }
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
