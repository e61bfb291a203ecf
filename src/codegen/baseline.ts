/**
 * The contract a new hub model is compared with: the hub-model.json of the output folder (the
 * last generation) or, for the CI gate, the one committed at a git revision. Comparing with a
 * revision is what catches a breaking change that was regenerated and committed, because the
 * output folder then already agrees with the hubs.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import type { HubModel } from './model.js'
import { MODEL_FILE, parseModel } from './outputs.js'

export interface RevisionModel {
  readonly ref: string
  /** Undefined when the revision has no hub-model.json there (the first contract). */
  readonly model: HubModel | undefined
}

/** `git show <ref>:<outDir>/hub-model.json`, the path taken relative to the repository of outDir. */
export function modelAtRevision(ref: string, outDir: string): RevisionModel {
  // The folder may not exist yet in a fresh checkout; git runs from its nearest existing parent.
  let cwd = resolve(outDir)
  while (!existsSync(cwd) && dirname(cwd) !== cwd) cwd = dirname(cwd)
  const git = (...args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 })
  try {
    git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`)
  } catch (error) {
    throw new ImError(ImErrorCode.ConfigInvalid, `--against ${ref}: not a commit of the git repository holding ${outDir} (${gitMessage(error)})`, { cause: error })
  }
  // `<ref>:./path` is relative to git's working directory, so symlinked temp folders cannot confuse it.
  const path = relative(cwd, resolve(outDir, MODEL_FILE)).replace(/\\/g, '/')
  let text: string
  try {
    text = git('show', `${ref}:./${path}`)
  } catch {
    return { ref, model: undefined }
  }
  try {
    return { ref, model: parseModel(text) }
  } catch (error) {
    throw new ImError(ImErrorCode.ConfigInvalid, `--against ${ref}: ${path} there is not valid JSON`, { cause: error })
  }
}

function gitMessage(error: unknown): string {
  const stderr = (error as { stderr?: unknown }).stderr
  const text = typeof stderr === 'string' && stderr.trim() ? stderr.trim().split('\n')[0]! : messageOf(error)
  return text
}
