/**
 * The error catalogue keeps its promise: every failure src/ raises is an ImError with a documented
 * code. The docs' table of codes and the catalogue name the same codes, and no file in src/ makes a
 * plain Error (the codegen template that writes a service's own publishers is the one exception:
 * that code runs in the service, without IMService).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { ImErrorCode } from '../../src/errors.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Written into generated publishers as text; it is not thrown by IMService. */
const GENERATED_CODE_TEMPLATES = ['src/codegen/emit-ts-publishers.ts']

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sourceFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

it('documents every code of the catalogue in docs/configuration.md, and no other', () => {
  const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8')
  const section = page.slice(page.indexOf('## Error codes'))
  const documented = [...section.matchAll(/^\| `(IM_[A-Z_]+)` \|/gm)].map((match) => match[1])
  expect(documented.sort()).toEqual(Object.values(ImErrorCode).sort())
})

it('raises no plain Error in src/', () => {
  const plain = sourceFiles(join(ROOT, 'src'))
    .map((file) => relative(ROOT, file).split('\\').join('/'))
    .filter((path) => !GENERATED_CODE_TEMPLATES.includes(path))
    .flatMap((path) =>
      readFileSync(join(ROOT, path), 'utf8')
        .split('\n')
        .flatMap((line, index) => (/\bnew Error\(/.test(line) ? [`${path}:${index + 1}: ${line.trim()}`] : [])),
    )
  expect(plain, `raise ImError with a code from src/errors.ts instead:\n${plain.join('\n')}`).toEqual([])
})
