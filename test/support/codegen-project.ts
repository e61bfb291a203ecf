/**
 * A temp copy of the codegen fixture hubs (test/fixtures/codegen/hubs and shared/) with their
 * imports pointed at this checkout, and `im generate` run on it as a user runs it: the CLI in a
 * child process, with exit code and output.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const SOURCE_IMPORT = "'../../../../src/index.js'"
export const CLI = resolve('cli/bin.mjs')

export interface CodegenProject {
  readonly root: string
  readonly hubs: string
  readonly out: string
  /** Replaces `from` (which must occur) in a file under root. */
  edit(file: string, from: string | RegExp, to: string): void
  read(file: string): string
  write(file: string, text: string): void
}

export function codegenProject(prefix: string): CodegenProject {
  const root = mkdtempSync(join(tmpdir(), prefix))
  cpSync('test/fixtures/codegen/shared', join(root, 'shared'), { recursive: true })
  cpSync('test/fixtures/codegen/hubs', join(root, 'hubs'), { recursive: true })
  for (const file of readdirSync(join(root, 'hubs'))) {
    const path = join(root, 'hubs', file)
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll(SOURCE_IMPORT, `'${resolve('src/index.js')}'`))
  }
  const read = (file: string): string => readFileSync(join(root, file), 'utf8')
  const write = (file: string, text: string): void => writeFileSync(join(root, file), text)
  return {
    root,
    hubs: join(root, 'hubs'),
    out: join(root, 'generated'),
    read,
    write,
    edit(file, from, to) {
      const text = read(file)
      const next = text.replace(from, to)
      if (next === text) throw new Error(`${String(from)} not found in ${file}`)
      write(file, next)
    },
  }
}

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** `im generate --hubs <hubs> --out <out> ...args`, from `cwd` (default this checkout). */
export async function imGenerate(project: CodegenProject, args: readonly string[] = [], cwd?: string): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'generate', '--hubs', project.hubs, '--out', project.out, ...args], { timeout: 60_000, ...(cwd ? { cwd } : {}) })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' }
  }
}

/** Every file under dir, path -> text, to prove a failed run changed nothing. */
export function snapshotDir(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name).slice(dir.length)] = readFileSync(join(entry.parentPath, entry.name), 'utf8')
  }
  return files
}
