/** What im generate cannot represent is refused with file, line and member, all problems at once. */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { analyzeHubs } from '../../../src/codegen/analyze.js'
import { CodegenError } from '../../../src/codegen/codegen-error.js'

const FILE = 'test/fixtures/codegen/broken/broken-hub.ts'
const source = readFileSync(FILE, 'utf8').split('\n')

/** The 1-based line holding `// marker: <name>`. */
function lineOf(marker: string): number {
  const index = source.findIndex((l) => l.includes(`// marker: ${marker}`))
  if (index < 0) throw new Error(`no marker ${marker}`)
  return index + 1
}

function analyzeBroken(): CodegenError {
  try {
    analyzeHubs({ hubsDir: 'test/fixtures/codegen/broken' })
  } catch (error) {
    if (error instanceof CodegenError) return error
    throw error
  }
  throw new Error('analysis should have failed')
}

describe('unsupported constructs', () => {
  const error = analyzeBroken()

  it.each([
    ['takesAny', 'BrokenHub.takesAny(value)', /'any'/],
    ['takesFunction', 'BrokenHub.takesFunction(callback)', /function/],
    ['takesBigint', 'BrokenHub.takesBigint(amount)', /bigint/],
    ['takesSymbol', 'BrokenHub.takesSymbol(key)', /symbol/],
    ['takesMap', 'BrokenHub.takesMap(entries)', /Map has no faithful JSON form; use Record/],
    ['takesBuffer', 'BrokenHub.takesBuffer(data)', /Buffer is not what a client sends; declare Uint8Array/],
    ['returnsAny', 'BrokenHub.returnsAny (result)', /'any'/],
    ['Widget.render', 'Widget.render', /has methods or accessors/],
    ['WithCallback.onDone', 'WithCallback.onDone', /function/],
  ])('refuses %s, naming file, line and member', (marker, member, message) => {
    const problem = error.problems.find((p) => p.member === member)
    expect(problem, `problem for ${member} in\n${error.message}`).toBeDefined()
    expect(problem).toMatchObject({ file: FILE, line: lineOf(marker) })
    expect(problem!.message).toMatch(message)
    expect(error.message).toContain(`${FILE}:${lineOf(marker)}: ${member}: `)
  })

  it('reports every problem in one error with a stable code', () => {
    expect(error.code).toBe('IM_CODEGEN_UNSUPPORTED')
    expect(error.problems).toHaveLength(9)
    expect(error.message).toMatch(/^im generate found 9 problems:/)
  })
})
