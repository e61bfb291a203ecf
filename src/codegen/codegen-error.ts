/**
 * What `im generate` reports when a hub cannot be turned into code. Each problem names the file,
 * the line and the member (tsoa's "At: file:line" habit), and all problems of a run are reported
 * together, so one pass fixes them all.
 */
import { ImError, ImErrorCode } from '../errors.js'

export interface CodegenProblem {
  /** Project-relative path. */
  readonly file: string
  readonly line: number
  /** `Class.member`, `Type.property` or `Class.method(parameter)`; empty for a compiler diagnostic. */
  readonly member: string
  readonly message: string
}

export function formatProblem(problem: CodegenProblem): string {
  return `${problem.file}:${problem.line}: ${problem.member ? `${problem.member}: ` : ''}${problem.message}`
}

export class CodegenError extends ImError {
  override name = 'CodegenError'
  readonly problems: readonly CodegenProblem[]

  constructor(problems: readonly CodegenProblem[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`
    // A hub that cannot be described is a hub definition error, found before start-up.
    super(ImErrorCode.CodegenUnsupported, `im generate found ${count}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`)
    this.problems = problems
  }
}
