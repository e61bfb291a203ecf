/**
 * `im generate` on hubs that do not compile or that the server would refuse: exit 1, one
 * `file:line: message` line per problem, and the generated folder exactly as it was (a failed
 * analysis never writes or deletes). Each case edits a temp copy of the fixture hubs.
 */
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { codegenProject, imGenerate, snapshotDir } from '../support/codegen-project.js'
import type { CodegenProject } from '../support/codegen-project.js'

let project: CodegenProject
let pristine: { chat: string; orders: string; types: string }
let before: Record<string, string>

beforeAll(async () => {
  project = codegenProject('im-codegen-broken-')
  pristine = { chat: project.read('hubs/chat-hub.ts'), orders: project.read('hubs/orders-hub.ts'), types: project.read('shared/types.ts') }
  const first = await imGenerate(project)
  expect(first.code, first.stderr).toBe(0)
  before = snapshotDir(project.out)
  expect(Object.keys(before)).toHaveLength(8)
}, 60_000)

beforeEach(() => {
  project.write('hubs/chat-hub.ts', pristine.chat)
  project.write('hubs/orders-hub.ts', pristine.orders)
  project.write('shared/types.ts', pristine.types)
})

afterAll(() => {
  if (project) rmSync(project.root, { recursive: true, force: true })
})

/** The 1-based line of the first line of `file` containing `text`. */
function lineOf(file: string, text: string): number {
  const index = project.read(file).split('\n').findIndex((l) => l.includes(text))
  if (index < 0) throw new Error(`${text} not in ${file}`)
  return index + 1
}

async function expectRefused(pattern: RegExp): Promise<string> {
  const result = await imGenerate(project)
  expect(result.code, result.stdout + result.stderr).toBe(1)
  expect(result.stderr).toMatch(pattern)
  expect(result.stdout).not.toMatch(/written|deleted|up to date/)
  expect(snapshotDir(project.out)).toEqual(before)
  return result.stderr
}

describe('im generate refuses hubs that do not compile, and writes and deletes nothing', () => {
  it('an import that resolves to nothing (a typo in the path)', async () => {
    project.edit('hubs/orders-hub.ts', /'[^']*src\/index\.js'/, "'../src/indx.js'")
    await expectRefused(new RegExp(`hubs/orders-hub\\.ts:${lineOf('hubs/orders-hub.ts', 'indx.js')}: cannot find module '\\.\\./src/indx\\.js'`))
  }, 60_000)

  it('a syntax error: a missing comma', async () => {
    project.edit('hubs/chat-hub.ts', 'async sendMessage(room: string, text: string,', 'async sendMessage(room: string text: string,')
    await expectRefused(new RegExp(`hubs/chat-hub\\.ts:${lineOf('hubs/chat-hub.ts', 'room: string text')}: ',' expected\\. \\(TS1005\\)`))
  }, 60_000)

  it('a syntax error in an imported file: an unclosed class', async () => {
    project.write('shared/types.ts', `${pristine.types}\nexport class Unclosed {\n  id = ''\n`)
    await expectRefused(/shared\/types\.ts:\d+: '\}' expected\. \(TS1005\)/)
  }, 60_000)

  it('a misspelt decorator, which would silently drop the method', async () => {
    project.edit('hubs/chat-hub.ts', "@Callable({ name: 'history' })", "@HubMetod({ name: 'history' })")
    await expectRefused(new RegExp(`hubs/chat-hub\\.ts:${lineOf('hubs/chat-hub.ts', '@HubMetod')}: Cannot find name 'HubMetod'`))
  }, 60_000)
})

describe('im generate refuses what the server refuses, naming class, member and files', () => {
  it('a static @Subscribe handler', async () => {
    project.edit('hubs/chat-hub.ts', 'async announce(payload: Announcement)', 'static async announce(payload: Announcement)')
    await expectRefused(new RegExp(`hubs/chat-hub\\.ts:${lineOf('hubs/chat-hub.ts', "@Subscribe('im.chat.announce')")}: ChatHub\\.announce: @Subscribe is on the static member ChatHub\\.announce; [^\\n]*remove 'static'`))
  }, 60_000)

  it('two hubs on one path', async () => {
    project.edit('hubs/orders-hub.ts', "@Hub({ path: '/hubs/orders' })", "@Hub({ path: '/signalr-hubs/Chat' })")
    const stderr = await expectRefused(/OrdersHub: hub path "\/signalr-hubs\/Chat" is used by both ChatHub \(([^)]*)hubs\/chat-hub\.ts:\d+\) and OrdersHub \(([^)]*)hubs\/orders-hub\.ts:\d+\)/)
    expect(stderr).not.toContain('hub name')
  }, 60_000)

  it('two hubs with one name', async () => {
    project.edit('hubs/orders-hub.ts', "@Hub({ path: '/hubs/orders' })", "@Hub({ name: 'chat', path: '/hubs/orders' })")
    await expectRefused(new RegExp(`orders-hub\\.ts:${lineOf('hubs/orders-hub.ts', "@Hub({ name: 'chat'")}: OrdersHub: hub name "chat" is used by both ChatHub \\([^)]*chat-hub\\.ts:\\d+\\) and OrdersHub \\([^)]*orders-hub\\.ts:\\d+\\)`))
  }, 60_000)
})
