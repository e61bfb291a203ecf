/**
 * The whole loop of `im generate`, end to end: generate from the fixture hubs and from DefaultHub,
 * compile the output with tsc --strict in a throwaway project whose only packages are
 * @microsoft/signalr and the NATS client, then drive a live IMService on a real nats-server with
 * the generated client and publishers (test/fixtures/codegen/consumer/scenario.ts.template).
 */
import { spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generate } from '../../src/codegen/generate.js'
import { loadHubs } from '../../src/server/load-hubs.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const REPO = resolve('.')
const FIXTURE_HUBS = 'test/fixtures/codegen/hubs'
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')
const WAIT_MS = 5000

interface ScenarioModule {
  readonly message: unknown
  runScenario(baseUrl: string, natsUrl: string, timeoutMs: number): Promise<Record<string, unknown>>
}

let work: string
let project: string
let nats: NatsServer | undefined
let server: TestServer | undefined

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'im-codegen-e2e-'))
  project = join(work, 'consumer')
  generate({ hubsDir: FIXTURE_HUBS, outDir: join(project, 'src/generated') })
  generate({ hubsDir: 'hubs', outDir: join(project, 'src/default') })
  mkdirSync(join(project, 'node_modules'), { recursive: true })
  for (const scope of ['@microsoft', '@nats-io']) symlinkSync(join(REPO, 'node_modules', scope), join(project, 'node_modules', scope), 'dir')
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  // The strictest settings a frontend or service might use; no DOM and no Node types.
  const compilerOptions = {
    target: 'ES2022', lib: ['ES2022'], types: [], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
    noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, verbatimModuleSyntax: true, erasableSyntaxOnly: true,
    noUnusedLocals: true, skipLibCheck: true, noEmit: true,
  }
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2))
  copyFileSync('test/fixtures/codegen/consumer/scenario.ts.template', join(project, 'src/scenario.ts'))
}, 60_000)

afterAll(async () => {
  await server?.close()
  await nats?.stop()
  if (work) rmSync(work, { recursive: true, force: true })
})

describe('generated code in a separate project', () => {
  it('compiles with tsc --strict against @microsoft/signalr and the NATS client only', () => {
    const result = spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', timeout: 90_000 })
    expect(result.error).toBeUndefined()
    expect(`${result.stdout}${result.stderr}`).toBe('')
    expect(result.status).toBe(0)
  }, 120_000)

  it('carries typed values both ways through a running IMService and nats-server', async () => {
    nats = await startNatsServer()
    const hubs = [...(await loadHubs('hubs')), ...(await loadHubs(FIXTURE_HUBS))]
    server = await startTestServer({ natsUrl: nats.url, hubs })
    const scenario = (await import(pathToFileURL(join(project, 'src/scenario.ts')).href)) as ScenarioModule
    const result = await scenario.runScenario(server.url, nats.url, WAIT_MS)

    // publishPost (generated publisher) -> ChatHub.post -> on('messageReceived') (generated client);
    // the message's Date and bytes crossed NATS and the JSON protocol as strings and came back typed.
    expect(result.delivered).toEqual([scenario.message, 'lobby'])
    const [delivered] = result.delivered as [{ author: { since: unknown }; thumbnail: unknown }]
    expect(delivered.author.since).toBeInstanceOf(Date)
    expect(delivered.thumbnail).toBeInstanceOf(Uint8Array)
    // invoke('echoMessage') sends them (bytes as base64 over JSON, bin over MessagePack) and revives the result.
    expect(result.echoed).toEqual(scenario.message)
    expect(result.echoedPacked).toEqual(scenario.message)
    // publishSendToAll -> DefaultHub -> the generic on<[string, number]>('refreshTable')
    expect(result.broadcast).toEqual(['orders', 3])
    // invoke('report') on a @Forward method -> subscribeReport, args typed as the method's parameters
    expect(result.reported).toMatchObject({ hub: 'chat', method: 'report', args: ['m-1', { reason: 'spam', details: 'buy now' }], userId: null })
    expect(result.ordered).toMatchObject({ hub: 'orders', method: 'createOrder', args: [{ lines: [{ sku: 'A-1', quantity: 2 }] }] })
    // invoke('publish') on DefaultHub -> subscribeReceive narrowed to the topic
    expect(result.received).toMatchObject({ hub: 'default', method: 'publish', topic: 'orders.created', args: [{ id: 7 }] })
    expect(result.pong).toBe('pong')
    expect(result.messageId).toBe('generated')
  }, 60_000)
})
