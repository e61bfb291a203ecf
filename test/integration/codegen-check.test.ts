/**
 * `im generate` as CI runs it: output is byte-identical run after run, and `--check` fails,
 * names each stale file with a diff and reports the breaking change once a hub changes. Hubs are
 * copied to a temp folder so the test can edit them.
 */
import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../../src/codegen/generate.js'

const run = promisify(execFile)
const SOURCE_IMPORT = "'../../../../src/index.js'"
let work: string
let hubs: string
let out: string

/** Copies the fixture hubs and their shared types, pointing their imports at this checkout. */
function copyFixtures(into: string): string {
  cpSync('test/fixtures/codegen/shared', join(into, 'shared'), { recursive: true })
  cpSync('test/fixtures/codegen/hubs', join(into, 'hubs'), { recursive: true })
  for (const file of readdirSync(join(into, 'hubs'))) {
    const path = join(into, 'hubs', file)
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll(SOURCE_IMPORT, `'${resolve('src/index.js')}'`))
  }
  return join(into, 'hubs')
}

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cliWith({}, ...args)
}

async function cliWith(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['cli/bin.mjs', 'generate', '--hubs', hubs, '--out', out, ...args], { timeout: 60_000, env: { ...process.env, ...env } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string }
    return { code: failure.code ?? -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' }
  }
}

function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files[join(entry.parentPath, entry.name).slice(dir.length)] = readFileSync(join(entry.parentPath, entry.name), 'utf8')
  }
  return files
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'im-codegen-check-'))
  hubs = copyFixtures(work)
  out = join(work, 'generated')
})

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('im generate', () => {
  it('writes byte-identical output on every run, and a second run changes nothing', () => {
    const first = generate({ hubsDir: hubs, outDir: out })
    const again = generate({ hubsDir: hubs, outDir: join(work, 'again') })
    expect(snapshot(join(work, 'again'))).toEqual(snapshot(out))
    expect(first.written.length).toBe(first.files.size)
    expect(generate({ hubsDir: hubs, outDir: out }).written).toEqual([])
    expect(again.breaking).toEqual([])
  }, 60_000)

  it('--check passes when the output is current', async () => {
    const result = await cli('--check')
    expect(result.stdout).toMatch(/--check: 8 files up to date \(2 hubs, \d+ ms\)/)
    expect(result.code).toBe(0)
  }, 60_000)

  it("follows hubs.envelopeCasing: with 'pascal' the envelopes change in the C# records, the TS publishers and the AsyncAPI document, and the contract stays", async () => {
    generate({ hubsDir: hubs, outDir: out })
    const result = await cliWith({ IM_ENVELOPE_CASING: 'pascal' }, '--check')
    expect(result.code).toBe(1)
    expect(result.stdout).toMatch(/generated files are stale[^\n]*:\n {2}asyncapi\.json \(changed\)\n {2}dotnet\/ChatHub\.cs \(changed\)\n {2}dotnet\/OrdersHub\.cs \(changed\)\n {2}publishers\/chat\.ts \(changed\)\n {2}publishers\/orders\.ts \(changed\)\nRun/)
    expect(result.stdout).toContain('-    [JsonPropertyName("connectionId")]')
    expect(result.stdout).toContain('+    [JsonPropertyName("ConnectionId")]')
    expect(result.stdout).toContain('-  readonly connectionId: string')
    expect(result.stdout).toContain('+  readonly ConnectionId: string')
    expect(result.stdout).toContain('-          "connectionId",')
    expect(result.stdout).toContain('+          "ConnectionId",')
    expect(result.stderr).not.toContain('breaking')
  }, 60_000)

  it('--check fails after a hub method changes, naming each stale file with a diff and the breaking change', async () => {
    const hubFile = join(hubs, 'chat-hub.ts')
    const original = readFileSync(hubFile, 'utf8')
    writeFileSync(hubFile, original.replace('async sendMessage(room: string,', "async sendMessage(room: 'lobby' | 'help',"))
    try {
      const result = await cli('--check')
      expect(result.code).toBe(1)
      expect(result.stdout).toContain("-  sendMessage: { args: [room: string, text: string, priority?: Priority]; result: string }")
      expect(result.stdout).toContain("+  sendMessage: { args: [room: 'lobby' | 'help', text: string, priority?: Priority]; result: string }")
      expect(result.stdout).toMatch(/generated files are stale[^\n]*:\n {2}client\/chat\.ts \(changed\)\n {2}hub-model\.json \(changed\)\n/)
      expect(result.stderr).toMatch(/breaking: [^\n]*chat-hub\.ts: ChatHub: method sendMessage parameter room narrowed or changed from string to 'lobby' \| 'help'/)
      expect(snapshot(out)['/client/chat.ts']).not.toContain("'lobby' | 'help'")
    } finally {
      writeFileSync(hubFile, original)
    }
  }, 60_000)

  it('--check lists generated files whose hub is gone, and a run without --check deletes them once the break is accepted', async () => {
    const ordersFile = join(hubs, 'orders-hub.ts')
    const original = readFileSync(ordersFile, 'utf8')
    rmSync(ordersFile)
    try {
      const result = await cli('--check')
      expect(result.code).toBe(1)
      expect(result.stdout).toContain('  client/orders.ts (obsolete)\n  dotnet/OrdersHub.cs (obsolete)\n')
      expect(result.stderr).toMatch(/breaking: [^\n]*OrdersHub: hub "orders" \(OrdersHub\) was removed/)
      const refused = generate({ hubsDir: hubs, outDir: out })
      expect(refused).toMatchObject({ refused: true, written: [], deleted: [] })
      const written = generate({ hubsDir: hubs, outDir: out, acceptBreaking: true })
      expect(written.deleted).toEqual(['client/orders.ts', 'dotnet/OrdersHub.cs', 'publishers/orders.ts'])
    } finally {
      writeFileSync(ordersFile, original)
    }
  }, 60_000)

  it('fails with file, line and member when a hub uses what JSON cannot carry', async () => {
    const hubFile = join(hubs, 'chat-hub.ts')
    const original = readFileSync(hubFile, 'utf8')
    writeFileSync(hubFile, original.replace('react(messageId: string, reaction: Reaction)', 'react(messageId: string, reaction: Reaction, done: () => void)'))
    try {
      const result = await cli()
      expect(result.code).toBe(1)
      const line = original.split('\n').findIndex((l) => l.includes('react(messageId')) + 1
      expect(result.stderr).toMatch(new RegExp(`chat-hub\\.ts:${line}: ChatHub\\.react\\(done\\): a function cannot be sent as JSON`))
    } finally {
      writeFileSync(hubFile, original)
    }
  }, 60_000)
})
