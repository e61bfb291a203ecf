/**
 * SLOW (about a minute): the team's path with the published package. Packs this repository
 * (`npm pack`, which builds dist/), installs the tarball with --omit=dev into an empty project,
 * runs `im init`, installs the scaffold's dev dependencies, writes a hub, generates and runs the
 * scaffold's `npm run check`, then starts `im serve` under a team tsconfig without
 * experimentalDecorators and drives the hub with the official client and `im publish` via NATS.
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** None of the machine's IM_* settings reach the project. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IM_'))), ...extra }
}

function run(file: string, args: string[], cwd: string, timeoutMs: number, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: cleanEnv(env), timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })
}

const npm = (args: string[], cwd: string): Promise<Run> => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], cwd, 240_000)

const TICKETS_HUB = `import { Hub, HubBase, HubException, HubMethod, Subscribe } from 'imservice'

export interface Ticket { id: string; status: string }
export interface TicketsClient { ticketUpdated(ticket: Ticket): void }

@Hub()
export class TicketsHub extends HubBase<TicketsClient> {
  @HubMethod()
  watch(id: string): string {
    if (id === '') throw new HubException('a ticket id is required')
    return \`watching \${id}\`
  }

  @Subscribe('tickets.updated')
  async updated(ticket: Ticket): Promise<void> {
    await this.clients.all.ticketUpdated(ticket)
  }
}
`

/** A team tsconfig without the decorator options: `im` must compile hubs correctly regardless. */
const TEAM_TSCONFIG = JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } })

describe('the packed package in a team project (slow: packs and installs)', () => {
  let work: string
  let app: string
  let nats: NatsServer | undefined
  let serve: ChildProcess | undefined
  let im: (args: string[], env?: Record<string, string>) => Promise<Run>

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'im-package-'))
    app = join(work, 'app')
    const packed = await npm(['pack', '--pack-destination', work], ROOT)
    expect(packed.code, packed.stderr).toBe(0)
    const tarball = join(work, packed.stdout.trim().split('\n').at(-1)!)
    await run('mkdir', [app], work, 5_000)
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'tickets-app', private: true }))
    const installed = await npm(['install', '--omit=dev', tarball], app)
    expect(installed.code, installed.stderr).toBe(0)
    im = (args, env = {}) => run(join(app, 'node_modules/.bin/im'), args, app, 60_000, env)
  }, 300_000)

  afterAll(async () => {
    serve?.kill('SIGKILL')
    await nats?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  })

  it('ships the built framework and runs on plain node', async () => {
    const pkg = join(app, 'node_modules/imservice')
    expect(existsSync(join(pkg, 'dist/src/index.js'))).toBe(true)
    expect(existsSync(join(pkg, 'dist/src/index.d.ts'))).toBe(true)
    expect(existsSync(join(pkg, 'src'))).toBe(false)
    expect(existsSync(join(pkg, 'test'))).toBe(false)
    // Only runtime dependencies were installed: no tsx-less import of our sources, no devDependencies.
    const plain = await run(process.execPath, ['--input-type=module', '-e', "const m = await import('imservice'); const d = await import('imservice/default-hub'); console.log(typeof m.startServer, typeof m.HubBase, typeof d.DefaultHub)"], app, 20_000)
    expect(plain).toMatchObject({ code: 0, stdout: 'function function function\n' })
    expect(await im(['--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` })
  }, 60_000)

  it('im init scaffolds a project that installs without engine warnings and passes its own check', async () => {
    const init = await im(['init'])
    expect(init.code, init.stderr).toBe(0)
    for (const file of ['im.config.ts', 'hubs/greetings-hub.ts', 'tsconfig.json', '.gitignore']) expect(existsSync(join(app, file)), file).toBe(true)
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { type: string; scripts: Record<string, string> }
    expect(manifest.type).toBe('module')
    expect(manifest.scripts).toMatchObject({ serve: 'im serve', generate: 'im generate' })
    expect(manifest.scripts.check).toContain('im generate --check')
    // With dev dependencies this time: TypeScript and @types/node for `npm run check`.
    const again = await npm(['install'], app)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).not.toContain('EBADENGINE')

    // The team's tsc reads our declarations (dist/), not our sources, and finds what they need.
    await writeFile(join(app, 'hubs/tickets-hub.ts'), TICKETS_HUB)
    const generated = await npm(['run', 'generate'], app)
    expect(generated, generated.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('2 hubs') })
    const check = await npm(['run', 'check'], app)
    expect(check, check.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('im generate --check: 8 files up to date') })
  }, 300_000)

  it('serves a team hub written under the team tsconfig: invoke and a service publish through NATS', async () => {
    await writeFile(join(app, 'tsconfig.json'), TEAM_TSCONFIG)
    expect(existsSync(join(app, 'generated/client/tickets.ts'))).toBe(true)

    nats = await startNatsServer()
    const port = await freePort()
    const env = { IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: nats.url, IM_DETAILED_ERRORS: 'true' }
    serve = spawn(join(app, 'node_modules/.bin/im'), ['serve'], { cwd: app, env: cleanEnv(env) })
    let banner = ''
    serve.stdout!.on('data', (d) => (banner += d))
    serve.stderr!.on('data', (d) => (banner += d))
    const exited = new Promise<number | null>((resolve) => serve!.on('exit', (code) => resolve(code)))
    await withTimeout(
      (async () => {
        while (!banner.includes('client method watch') && serve!.exitCode === null) await new Promise((r) => setTimeout(r, 50))
      })(),
      20_000,
      'the serve banner',
    )
    expect(banner).toContain(`hub tickets at http://127.0.0.1:${port}/signalr-hubs/tickets`)
    expect(banner).toContain('subscribes tickets.updated')
    expect(banner).toContain('client method watch')

    const client = await connectClient(`http://127.0.0.1:${port}/signalr-hubs/tickets`)
    const inbox = new Inbox(client, 'ticketUpdated')
    expect(await client.invoke('watch', 'T-1')).toBe('watching T-1')
    // The installed framework reads the team's hub source for the argument check.
    await expect(client.invoke('watch', 42)).rejects.toThrow("Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked. Parameter 'id' must be string.")
    const published = await im(['publish', 'tickets.updated', '{"id":"T-1","status":"closed"}'], env)
    expect(published, published.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining('published to NATS') })
    expect(await inbox.next()).toEqual([{ id: 'T-1', status: 'closed' }])
    await client.stop()

    serve.kill('SIGTERM')
    expect(await withTimeout(exited, 10_000, 'im serve to exit')).toBe(0)
    serve = undefined
  }, 120_000)

  it('im serve refuses a hub that serves nothing, naming its file', async () => {
    await writeFile(join(app, 'hubs/empty-hub.ts'), "import { Hub, HubBase } from 'imservice'\n\n@Hub()\nexport class EmptyHub extends HubBase {}\n")
    const refused = await im(['serve'], { IM_PORT: String(await freePort()), IM_HOST: '127.0.0.1' })
    expect(refused.code).toBe(1)
    expect(refused.stderr).toContain(`${join(app, 'hubs/empty-hub.ts')}: hub EmptyHub serves nothing`)
    expect(refused.stdout).not.toContain('IMService listening')

    // Embedding on plain Node 20, which cannot load .ts: the loader says which file and what to do.
    const embedded = await run(process.execPath, ['--input-type=module', '-e', "await (await import('imservice')).loadHubs('hubs')"], app, 20_000)
    expect(embedded.code).toBe(1)
    expect(embedded.stderr).toContain(`${join(app, 'hubs/empty-hub.ts')}: Node cannot load TypeScript by itself`)
  }, 60_000)
})
