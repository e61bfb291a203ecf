/**
 * `im generate --watch` on hubs that stop compiling: it prints the same `file:line: message`
 * errors as a single run, keeps the last good output, and regenerates once the hubs are fixed,
 * also when the broken file is one the hubs import. Waits are bounded by output, not sleeps.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, codegenProject, imGenerate, snapshotDir } from '../support/codegen-project.js'
import type { CodegenProject } from '../support/codegen-project.js'

let project: CodegenProject
let child: ChildProcess | undefined
let output = ''

beforeAll(async () => {
  project = codegenProject('im-codegen-watch-')
  expect((await imGenerate(project)).code).toBe(0)
}, 60_000)

afterAll(() => {
  if (child?.exitCode === null) child.kill('SIGTERM')
  if (project) rmSync(project.root, { recursive: true, force: true })
})

/** Resolves once the combined output after `from` matches, or fails after `ms`. */
async function waitFor(pattern: RegExp, from: number, ms = 30_000): Promise<string> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const text = output.slice(from)
    if (pattern.test(text)) return text
    if (child?.exitCode !== null) throw new Error(`im generate --watch exited (${String(child?.exitCode)}):\n${output}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no ${pattern} within ${ms} ms; output so far:\n${output}`)
}

describe('im generate --watch', () => {
  it('reports errors as file:line, keeps the last good output, and regenerates after the fix', async () => {
    child = spawn(process.execPath, [CLI, 'generate', '--watch', '--hubs', project.hubs, '--out', project.out], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
    await waitFor(/watching for changes/, 0)
    const good = snapshotDir(project.out)
    const pristine = project.read('hubs/chat-hub.ts')

    let mark = output.length
    project.edit('hubs/chat-hub.ts', "@Callable({ name: 'history' })", "@HubMetod({ name: 'history' })")
    const broken = await waitFor(/last good output is kept/, mark)
    expect(broken).toMatch(/hubs\/chat-hub\.ts:\d+: Cannot find name 'HubMetod'/)
    expect(snapshotDir(project.out)).toEqual(good)

    // A broken imported file is reported too, and its folder stays watched through the failure.
    project.write('hubs/chat-hub.ts', pristine)
    mark = output.length
    const types = project.read('shared/types.ts')
    project.write('shared/types.ts', `${types}\nexport class Unclosed {\n`)
    await waitFor(/shared\/types\.ts:\d+: '\}' expected[\s\S]*last good output is kept/, mark)
    expect(snapshotDir(project.out)).toEqual(good)

    mark = output.length
    project.write('shared/types.ts', `${types}\nexport interface Added {\n  id: string\n}\n`)
    await waitFor(/im generate: 2 hubs, 8 files, all up to date/, mark)

    mark = output.length
    project.edit('hubs/chat-hub.ts', "@Callable({ name: 'history' })", "@Callable()\n  ping(): string {\n    return 'pong'\n  }\n\n  @Callable({ name: 'history' })")
    await waitFor(/im generate: 2 hubs, 8 files, \d+ written, 0 deleted/, mark)
    expect(snapshotDir(project.out)['/client/chat.ts']).toContain('ping')
  }, 120_000)
})
