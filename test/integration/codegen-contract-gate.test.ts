/**
 * The contract gate: a breaking change is refused by a write (the committed hub-model.json stays
 * the contract) and by `--check --against <ref>` even once it was regenerated and committed,
 * unless the hub's `@Hub({ version })` went up or `--accept-breaking` is given. Additive
 * changes pass. Runs the CLI on a temp copy of the fixture hubs inside a temp git repository.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { codegenProject, imGenerate, snapshotDir } from '../support/codegen-project.js'
import type { CodegenProject } from '../support/codegen-project.js'

let project: CodegenProject
let pristine: string
const NARROW = ["async sendMessage(room: string,", "async sendMessage(room: 'lobby' | 'help',"] as const
const BREAK = /ChatHub: method sendMessage parameter room narrowed or changed from string to 'lobby' \| 'help'/

function git(...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args], { cwd: project.root, encoding: 'utf8' })
}

function commitAll(message: string): void {
  git('add', '-A')
  git('commit', '-q', '--allow-empty', '-m', message)
}

beforeAll(async () => {
  project = codegenProject('im-codegen-gate-')
  pristine = project.read('hubs/chat-hub.ts')
  const first = await imGenerate(project)
  expect(first.code, first.stderr).toBe(0)
  git('init', '-q', '-b', 'main')
  commitAll('hubs and their contract')
}, 60_000)

afterAll(() => {
  if (project) rmSync(project.root, { recursive: true, force: true })
})

function resetTo(ref: string): void {
  git('reset', '-q', '--hard', ref)
  git('clean', '-qfd')
}

describe('a write with a breaking change', () => {
  it('is refused: exit 1, the change named, nothing written (the contract stays)', async () => {
    const before = snapshotDir(project.out)
    project.edit('hubs/chat-hub.ts', NARROW[0], NARROW[1])
    const result = await imGenerate(project)
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(BREAK)
    expect(result.stderr).toContain('1 breaking change; nothing written.')
    expect(snapshotDir(project.out)).toEqual(before)
    resetTo('HEAD')
  }, 120_000)

  it('goes through with --accept-breaking', async () => {
    project.edit('hubs/chat-hub.ts', NARROW[0], NARROW[1])
    const result = await imGenerate(project, ['--accept-breaking'])
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/2 written, 0 deleted/)
    expect(readFileSync(join(project.out, 'client/chat.ts'), 'utf8')).toContain("room: 'lobby' | 'help'")
    resetTo('HEAD')
  }, 120_000)

  it('goes through when the hub version is raised, and says the change was acknowledged', async () => {
    project.edit('hubs/chat-hub.ts', NARROW[0], NARROW[1])
    project.edit('hubs/chat-hub.ts', "@DefineHub({ name: 'chat' })", "@DefineHub({ name: 'chat', version: 2 })")
    const result = await imGenerate(project)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stderr).toMatch(new RegExp(`breaking, acknowledged by a raised @Hub version: .*${BREAK.source}`))
    const model = JSON.parse(readFileSync(join(project.out, 'hub-model.json'), 'utf8')) as { hubs: { name: string; version?: number }[] }
    expect(model.hubs.find((h) => h.name === 'chat')?.version).toBe(2)
    resetTo('HEAD')
  }, 120_000)
})

describe('--check --against <ref>', () => {
  it('fails on a breaking change that was regenerated and committed, which plain --check lets through', async () => {
    project.edit('hubs/chat-hub.ts', NARROW[0], NARROW[1])
    expect((await imGenerate(project, ['--accept-breaking'])).code).toBe(0)
    commitAll('narrow sendMessage and regenerate')
    const plain = await imGenerate(project, ['--check'])
    expect(plain.code, plain.stderr).toBe(0)
    const gated = await imGenerate(project, ['--check', '--against', 'HEAD~1'])
    expect(gated.code).toBe(1)
    expect(gated.stderr).toMatch(new RegExp(`breaking \\(since HEAD~1\\): .*${BREAK.source}`))
    expect(gated.stderr).toContain('im generate --check: 1 breaking change (since HEAD~1)')
    // --accept-breaking is the explicit way through for one run.
    expect((await imGenerate(project, ['--check', '--against', 'HEAD~1', '--accept-breaking'])).code).toBe(0)
    resetTo('HEAD~1')
  }, 120_000)

  it('passes a committed break whose hub version was raised', async () => {
    project.edit('hubs/chat-hub.ts', NARROW[0], NARROW[1])
    project.edit('hubs/chat-hub.ts', "@DefineHub({ name: 'chat' })", "@DefineHub({ name: 'chat', version: 2 })")
    expect((await imGenerate(project)).code).toBe(0)
    commitAll('chat v2')
    const gated = await imGenerate(project, ['--check', '--against', 'HEAD~1'])
    expect(gated.code, gated.stderr).toBe(0)
    expect(gated.stderr).toMatch(/acknowledged by a raised @Hub version \(since HEAD~1\)/)
    resetTo('HEAD~1')
  }, 120_000)

  it('passes additive changes: a new method and a new optional parameter', async () => {
    project.edit('hubs/chat-hub.ts', 'priority?: Priority): Promise<string> {', 'priority?: Priority, tag?: string): Promise<string> {')
    project.edit('hubs/chat-hub.ts', "@Callable({ name: 'history' })", "@Callable()\n  ping(): string {\n    return 'pong'\n  }\n\n  @Callable({ name: 'history' })")
    expect((await imGenerate(project)).code).toBe(0)
    commitAll('add ping and an optional tag')
    const gated = await imGenerate(project, ['--check', '--against', 'HEAD~1'])
    expect(gated.code, gated.stderr).toBe(0)
    expect(gated.stderr).toBe('')
    resetTo('HEAD~1')
  }, 120_000)

  it('names a removed method and a removed subscription', async () => {
    project.edit('hubs/chat-hub.ts', "@Subscribe('im.chat.announce')\n  async announce", "async announce")
    project.edit('hubs/chat-hub.ts', "@Callable({ name: 'history' })", '')
    expect((await imGenerate(project, ['--accept-breaking'])).code).toBe(0)
    commitAll('drop history and the announce subscription')
    const gated = await imGenerate(project, ['--check', '--against', 'HEAD~1'])
    expect(gated.code).toBe(1)
    expect(gated.stderr).toMatch(/ChatHub: method history was removed/)
    expect(gated.stderr).toMatch(/ChatHub: subscription im\.chat\.announce \(announce\) was removed/)
    resetTo('HEAD~1')
  }, 120_000)

  it('says so and passes when the revision has no contract yet, and refuses an unknown revision', async () => {
    const empty = git('commit-tree', '-m', 'empty', git('mktree').trim() || '4b825dc642cb6eb9a060e54bf8d69288fbee4904').trim()
    const none = await imGenerate(project, ['--check', '--against', empty])
    expect(none.code, none.stderr).toBe(0)
    expect(none.stdout).toContain(`${empty} has no`)
    const unknown = await imGenerate(project, ['--check', '--against', 'no-such-branch'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/--against no-such-branch: not a commit of the git repository/)
  }, 120_000)

  it('is refused without --check', async () => {
    const result = await imGenerate(project, ['--against', 'HEAD'])
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('--against compares without writing; use it with --check')
  }, 120_000)
})
