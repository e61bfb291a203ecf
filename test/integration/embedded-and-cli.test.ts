/**
 * The newcomer's path: a node without NATS runs on the embedded bus and takes publishes over
 * HTTP; `im serve` and `im publish` work as the README says.
 */
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = fileURLToPath(new URL('../../cli/bin.mjs', import.meta.url))

/** The environment of a CLI run: none of the machine's IM_* settings. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IM_')))
  return { ...env, ...extra }
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return withTimeout(
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cliEnv(env) })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    }),
    15_000,
    `im ${args.join(' ')}`,
  )
}

describe('embedded bus and the HTTP publish endpoint', () => {
  it('delivers what is POSTed to /api/publish, and refuses bad requests with the reason', async () => {
    await using server = await startTestServer()
    expect(server.bus.status()).toMatchObject({ kind: 'embedded', state: 'connected' })
    const client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'hello')
    const post = (body: string) => fetch(`${server.url}/api/publish`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } })

    const ok = await post(JSON.stringify({ subject: 'im.default.send', payload: { method: 'hello', args: ['over http'] } }))
    expect(ok.status).toBe(202)
    expect(await inbox.next()).toEqual(['over http'])

    expect(await (await post('{nope')).text()).toBe('The body must be JSON: {"subject": "...", "payload": {...}}.')
    const wildcard = await post(JSON.stringify({ subject: 'im.default.>', payload: {} }))
    expect([wildcard.status, await wildcard.text()]).toEqual([400, "Invalid subject: topic must not contain the wildcards '*' or '>'."])
    expect((await post(JSON.stringify({ subject: 'im.default.send' }))).status).toBe(400)
    expect((await fetch(`${server.url}/api/publish`)).status).toBe(405)
    await expect(client.invoke('publish', 'local', 1)).resolves.toBeNull()

    const health = await (await fetch(`${server.url}/healthz`)).json()
    expect(health).toMatchObject({ status: 'ok', bus: { kind: 'embedded', state: 'connected' }, connections: 1 })
    await client.stop()
  })
})

describe('the im command', () => {
  let nats: NatsServer
  let serve: ChildProcess | undefined
  beforeAll(async () => {
    nats = await startNatsServer()
  })
  afterAll(async () => {
    serve?.kill('SIGKILL')
    await nats?.stop()
  })

  it('im serve prints what it serves; im publish reaches a client; SIGTERM exits 0', async () => {
    const port = await freePort()
    const env = { IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: nats.url }
    serve = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: cliEnv(env) })
    let banner = ''
    serve.stdout!.on('data', (d) => (banner += d))
    const exited = new Promise<number | null>((resolve) => serve!.on('exit', (code) => resolve(code)))
    await withTimeout(
      (async () => {
        while (!banner.includes('client method publish')) await new Promise((r) => setTimeout(r, 50))
      })(),
      15_000,
      'the serve banner',
    )
    expect(banner).toContain(`IMService listening on http://127.0.0.1:${port}`)
    expect(banner).toContain(`hub default at http://127.0.0.1:${port}/signalr-hubs/default`)
    expect(banner).toContain('subscribes im.default.send.user')
    expect(banner).toMatch(/bus: NATS nats:\/\/127\.0\.0\.1:\d+, connected/)

    const client = await connectClient(`http://127.0.0.1:${port}/signalr-hubs/default`)
    const inbox = new Inbox(client, 'hello')
    const viaNats = await run(['publish', 'im.default.send', '{"method":"hello","args":["from the cli"]}'], env)
    expect(viaNats).toMatchObject({ code: 0, stdout: expect.stringContaining('published to NATS') })
    expect(await inbox.next()).toEqual(['from the cli'])

    const viaHttp = await run(['publish', '--url', `http://127.0.0.1:${port}`, 'im.default.send', '{"method":"hello","data":"over http"}'], env)
    expect(viaHttp).toMatchObject({ code: 0, stdout: expect.stringContaining('/api/publish') })
    expect(await inbox.next()).toEqual(['over http'])
    await client.stop()

    serve.kill('SIGTERM')
    expect(await withTimeout(exited, 10_000, 'im serve to exit')).toBe(0)
    serve = undefined
  }, 40_000)

  it('im serve refuses a misspelt variable or config key at start-up, naming the setting meant, and a NATS TLS file that does not exist, naming its setting', async () => {
    const port = await freePort()
    const typo = await run(['serve'], { IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: nats.url, IM_JWT_SECRETS: 'a-test-secret-of-at-least-32-bytes!!' })
    expect(typo).toMatchObject({ code: 1, stderr: expect.stringContaining('IM_JWT_SECRETS is not a setting; did you mean IM_JWT_SECRET?') })
    expect(typo.stdout).not.toContain('IMService listening')

    const dir = await mkdtemp(join(tmpdir(), 'im-config-typo-'))
    try {
      const file = join(dir, 'im.config.mjs')
      await writeFile(file, 'export default { hubs: { keepAliveIntervallMs: 1000 } }\n')
      const keyTypo = await run(['serve', '--config', file], { IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: nats.url })
      expect(keyTypo).toMatchObject({ code: 1, stderr: expect.stringContaining('config key hubs.keepAliveIntervallMs is not a setting; did you mean hubs.keepAliveIntervalMs?') })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
    const badUrl = await run(['serve'], { IM_PORT: String(port), IM_NATS_URL: 'nats//127.0.0.1:4222' })
    expect(badUrl).toMatchObject({ code: 1, stderr: expect.stringContaining('IM_NATS_URL entry "nats//127.0.0.1:4222" is not a URL') })
    const noKey = await run(['serve'], { IM_PORT: String(port), IM_NATS_URL: nats.url, IM_NATS_TLS_CERT: '/nonexistent/im.pem', IM_NATS_TLS_KEY: '/nonexistent/im.key' })
    expect(noKey).toMatchObject({ code: 1, stderr: expect.stringContaining('IM_NATS_TLS_CERT (nats.tls.certFile): /nonexistent/im.pem does not exist') })
  }, 40_000)

  it('im serve --dry-run checks the configuration and the hubs, fills the contract cache and exits without serving', async () => {
    const port = await freePort()
    const ok = await run(['serve', '--dry-run'], { IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: nats.url })
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringContaining('im serve --dry-run: the configuration and 1 hub(s) are valid (default)') })
    expect(ok.stdout).not.toContain('IMService listening')
    expect(readdirSync(join(ROOT, 'node_modules', '.cache', 'imservice')).some((name) => name.startsWith('hub-contract-'))).toBe(true)
    const typo = await run(['serve', '--dry-run'], { IM_PORT: String(port), IM_JWT_SECRETS: 'a-test-secret-of-at-least-32-bytes!!' })
    expect(typo).toMatchObject({ code: 1, stderr: expect.stringContaining('IM_JWT_SECRETS is not a setting; did you mean IM_JWT_SECRET?') })
  }, 40_000)

  it('im publish refuses a payload that is not JSON and a wildcard subject', async () => {
    const env = { IM_NATS_URL: nats.url }
    expect(await run(['publish', 'im.default.send', '{oops'], env)).toMatchObject({ code: 1, stderr: expect.stringContaining('the payload is not valid JSON') })
    expect(await run(['publish', 'im.default.*', '{}'], env)).toMatchObject({ code: 1, stderr: expect.stringContaining('is not a valid subject') })
  }, 30_000)
})
