/**
 * Sharing NATS with an `im` stream made by DotNetCore.CAP subscribers, against a real nats-server:
 * when our stream is missing and that stream holds all of our subjects, the node reads it as it
 * is; when it holds only some, the node refuses to start with what to do (and `im serve` exits
 * with it), never falling back to core NATS in silence; other nodes are unaffected. An outage of
 * JetStream itself still does not stop a node.
 */
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { StorageType, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { describe, expect, it, vi } from 'vitest'
import { Inbox, connectClient, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { capPublish, capStream } from '../support/cap.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import { startServer } from '../../src/server.js'
import { startTestServer, testConfig, untilSubscribed } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { jetStreamFixture } from '../support/jetstream-fixture.js'
import { freePort, startNatsServer } from '../support/nats-server.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BIN = fileURLToPath(new URL('../../cli/bin.mjs', import.meta.url))

/** What the old .NET gateway's CAP subscribers listed: DefaultHub's subjects, literally, and one of their own. */
const CAP_GATEWAY_SUBJECTS = ['im.default.send', 'im.default.send.client', 'im.default.send.user', 'im.default.send.group', 'im.default.groups.add', 'im.default.groups.remove', 'im.audit.recorded']
const DEFAULT_HUB_SUBJECTS = CAP_GATEWAY_SUBJECTS.slice(0, 6)

const fixture = jetStreamFixture()

async function client(server: TestServer): Promise<TestClient> {
  const connection = await connectClient(server.hubUrl())
  fixture.onCleanup(() => connection.stop())
  return connection
}

/** Streams holding service subjects: the presence table each hub keeps (IM_PRESENCE_<hub>) holds none. */
async function streamNames(): Promise<string[]> {
  const names: string[] = []
  for await (const name of fixture.jsm.streams.names()) if (!name.startsWith('IM_PRESENCE_')) names.push(name)
  return names.sort()
}

async function consumersOf(stream: string): Promise<string[]> {
  const names: string[] = []
  for await (const info of fixture.jsm.consumers.list(stream)) names.push(info.name)
  return names.sort()
}

/** `im serve` in a child process; resolves when it exits. */
/** The environment of a CLI run: none of the machine's IM_* settings. */
function cliBase(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('IM_')))
}

function serve(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = cliBase()
  return withTimeout(
    new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...base, ...env } })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d) => (stdout += d))
      child.stderr.on('data', (d) => (stderr += d))
      child.on('close', (code) => resolve({ code, stdout, stderr }))
    }),
    20_000,
    'im serve to exit',
  )
}

describe('an im stream made by CAP subscribers', () => {
  it('is read as it is when it holds all of our subjects, and each message reaches a client once', async () => {
    await capStream(fixture.jsm, 'im', CAP_GATEWAY_SUBJECTS)
    const server = await fixture.node({ config: { jetstream: { stream: 'IMSERVICE', subjects: DEFAULT_HUB_SUBJECTS } } })
    expect(server.bus.status().stream).toEqual({ name: 'im', state: 'ready' })
    // Nothing created or changed: the CAP stream keeps its subjects and storage; the node only adds its consumer.
    expect(await streamNames()).toEqual(['im'])
    const info = await fixture.jsm.streams.info('im')
    expect(info.config).toMatchObject({ subjects: CAP_GATEWAY_SUBJECTS, storage: 'memory' })
    expect(await consumersOf('im')).toEqual([`im-${server.nodeId}`])

    const connection = await client(server)
    const refresh = new Inbox(connection, 'refreshTable')
    const inGroup = new Inbox(connection, 'roomNews')
    const done = new Inbox(connection, 'done')
    await capPublish(fixture.nc, 'im.default.send', { Method: 'refreshTable', Data: { Table: 'orders' } })
    // Several of our subjects on a stream that also holds another's: in stream order, the add before the send.
    await capPublish(fixture.nc, 'im.default.groups.add', { Group: 'room-1', ConnectionId: connection.connectionId }, { typeName: 'DefaultGroupEto' })
    await capPublish(fixture.nc, 'im.default.send.group', { Group: 'room-1', Method: 'roomNews', Data: 'hello' }, { typeName: 'DefaultGroupEto' })
    // The other subject the stream holds is not ours: acknowledged, delivered to nobody.
    await capPublish(fixture.nc, 'im.audit.recorded', { Method: 'done', Data: 'not for clients' }, { typeName: 'AuditEto' })
    // A plain core publish on a subject the stream holds is captured by it: still once.
    fixture.nc.publish('im.default.send', JSON.stringify({ method: 'refreshTable', args: [{ table: 'core' }] }))
    await capPublish(fixture.nc, 'im.default.send', { Method: 'done', Data: 'sentinel' })

    expect(await done.next()).toEqual(['sentinel'])
    expect(done.received).toHaveLength(1)
    expect(refresh.received).toEqual([[{ Table: 'orders' }], [{ table: 'core' }]])
    expect(inGroup.received).toEqual([['hello']])
    expect(server.bus.duplicatesSkipped).toBe(0)
  })

  it('refuses to start when it holds only some of our subjects, says what to do, and changes nothing', async () => {
    const held = ['im.default.send', 'im.default.send.client', 'im.default.send.user']
    await capStream(fixture.jsm, 'im', held)
    const other = await fixture.node({})
    const watcher = await client(other)
    const refresh = new Inbox(watcher, 'refreshTable')

    const refused = await startTestServer({ natsUrl: fixture.nats.url, config: { jetstream: { stream: 'IMSERVICE' } } })
    fixture.onCleanup(() => refused.close())
    const error = await untilSubscribed(refused).then(() => expect.fail('the node started next to a stream holding some of its subjects'), (e: unknown) => e)
    expect(error).toMatchObject({ code: 'IM_STREAM_CONFLICT' })
    expect((error as Error).message).toBe(
      'JetStream stream IMSERVICE does not exist and cannot be created: NATS lets no two streams hold one subject, and stream im (memory storage) ' +
        'holds im.default.send, im.default.send.client, im.default.send.user, while IMService takes im.default.send, im.default.send.>, im.default.groups.>. ' +
        'IMService will not change a stream it did not create, nor take these subjects from core NATS instead. Change one thing and start again:\n' +
        '- if no DotNetCore.CAP subscriber (or other consumer) still reads stream im, remove it: nats stream rm im\n' +
        '- or read stream im as it is, for the subjects it holds (the others then come from core NATS): ' +
        'IM_JETSTREAM_STREAM=im IM_JETSTREAM_SUBJECTS=im.default.send,im.default.send.client,im.default.send.user (jetstream.stream and jetstream.subjects)\n' +
        "- or let stream im hold all of them: nats stream edit im --subjects 'im.default.send,im.default.send.>,im.default.groups.>' " +
        '(a DotNetCore.CAP subscriber rewrites the subjects of stream im when it starts, since CAP 7.2: add them in its NATSOptions.StreamOptions too)',
    )
    expect(refused.bus.status().stream).toMatchObject({ name: 'IMSERVICE', state: 'unavailable', reason: (error as Error).message })

    // Nothing changed on the server: no stream of ours, the CAP stream as it was, no consumer of ours on it.
    expect(await streamNames()).toEqual(['im'])
    expect((await fixture.jsm.streams.info('im')).config.subjects).toEqual(held)
    expect(await consumersOf('im')).toEqual([])
    // The node already serving is unaffected.
    fixture.nc.publish('im.default.send', JSON.stringify({ method: 'refreshTable', args: ['still served'] }))
    expect(await refresh.next()).toEqual(['still served'])

    // `im serve` stops with the same message and exit code 1, before it listens.
    const run = await serve({ IM_NATS_URL: fixture.nats.url, IM_PORT: String(await freePort()), IM_HOST: '127.0.0.1', IM_JETSTREAM_STREAM: 'IMSERVICE' })
    expect(run.code).toBe(1)
    expect(run.stderr).toContain(`im: ${(error as Error).message}`)
    expect(run.stdout).not.toContain('IMService listening')
  })

  it('makes startServer reject, leaving NATS, when NATS answered before it returned', async () => {
    await using nats = await startNatsServer({ jetstream: true, monitoring: true })
    const service = await connect({ servers: nats.url })
    fixture.onCleanup(() => service.close())
    await capStream(await jetstreamManager(service), 'im', ['im.default.send'])
    const config = testConfig({ natsUrl: nats.url, config: { jetstream: { stream: 'IMSERVICE' } } })
    // Not explicit: one attempt, connected before startServer goes on (as `npm start` finds a local NATS).
    const starting = startServer({ config: { ...config, nats: { ...config.nats, explicit: false } }, hubs: [DefaultHub] })
    await expect(starting).rejects.toMatchObject({ code: 'IM_STREAM_CONFLICT', message: expect.stringContaining('JetStream stream IMSERVICE does not exist and cannot be created') })
    // Its NATS connection is gone: only the test's own service connection is left.
    await vi.waitFor(async () => {
      const connz = (await (await fetch(`${nats.monitorUrl}/connz`)).json()) as { num_connections: number }
      expect(connz.num_connections).toBe(1)
    }, { timeout: 5000, interval: 50 })
  })

  it('still refuses, with what it knows, when the node may not list streams', async () => {
    const config = [
      'authorization { users = [',
      '  { user: admin, password: admin }',
      '  { user: im, password: im, permissions: { publish: { allow: [">"], deny: ["$JS.API.STREAM.NAMES"] } } }',
      '] }',
    ].join('\n')
    await using nats = await startNatsServer({ jetstream: true, config })
    const admin = await connect({ servers: nats.url, user: 'admin', pass: 'admin' })
    fixture.onCleanup(() => admin.close())
    await capStream(await jetstreamManager(admin), 'im', ['im.default.send'])
    const refused = await startTestServer({ natsUrl: nats.url, config: { nats: { user: 'im', pass: 'im' }, jetstream: { stream: 'IMSERVICE' } } })
    fixture.onCleanup(() => refused.close())
    const error = await untilSubscribed(refused, 20_000).then(() => expect.fail('the node started'), (e: unknown) => e as Error)
    expect(error).toMatchObject({ code: 'IM_STREAM_CONFLICT' })
    expect(error.message).toBe(
      'JetStream stream IMSERVICE does not exist and cannot be created: another stream holds some of im.default.send, im.default.send.>, im.default.groups.> ' +
        '(the server says: subjects overlap with an existing stream), and this node may not list streams to name it. Find it with: nats stream ls',
    )
  })

  it('names the stream to edit when it holds subjects of its own besides ours', async () => {
    await capStream(fixture.jsm, 'im', ['im.default.send.user', 'im.default.receive.orders.created'])
    const refused = await startTestServer({ natsUrl: fixture.nats.url, config: { jetstream: { stream: 'IMSERVICE' } } })
    fixture.onCleanup(() => refused.close())
    const error = await untilSubscribed(refused).then(() => expect.fail('the node started'), (e: unknown) => e as Error)
    expect(error.message).toContain(
      "- if no DotNetCore.CAP subscriber (or other consumer) still reads these subjects from stream im, remove them from it: nats stream edit im --subjects 'im.default.receive.orders.created'\n",
    )
    expect(error.message).toContain("nats stream edit im --subjects 'im.default.receive.orders.created,im.default.send,im.default.send.>,im.default.groups.>'")
  })
})

describe('im serve and a conflict found once NATS answers', () => {
  it('exits with the message when NATS comes up after the banner with the conflicting stream', async () => {
    const port = await freePort()
    const nats = await startNatsServer({ jetstream: true, port })
    fixture.onCleanup(() => nats.stop())
    const setup = await connect({ servers: nats.url })
    await (await jetstreamManager(setup)).streams.add({ name: 'im', subjects: ['im.default.send'], storage: StorageType.File })
    await setup.close()
    await nats.kill('SIGTERM')

    const env = { IM_NATS_URL: nats.url, IM_PORT: String(await freePort()), IM_HOST: '127.0.0.1', IM_JETSTREAM_STREAM: 'IMSERVICE', IM_NATS_RECONNECT_WAIT_MS: '100' }
    const child = spawn(process.execPath, [BIN, 'serve'], { cwd: ROOT, env: { ...cliBase(), ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    fixture.onCleanup(async () => child.kill())
    await vi.waitFor(() => expect(stdout).toContain('IMService listening'), { timeout: 15_000, interval: 50 })
    await nats.restart()
    expect(await withTimeout(exited, 20_000, 'im serve to exit')).toBe(1)
    expect(stderr).toContain('im: JetStream stream IMSERVICE does not exist and cannot be created: NATS lets no two streams hold one subject, and stream im (file storage) holds im.default.send,')
  })
})

describe('a JetStream outage at start', () => {
  it('does not stop the node: it serves from core NATS, reports the stream unavailable, and says why', async () => {
    await using nats = await startNatsServer({ jetstream: false })
    const server = await startTestServer({ natsUrl: nats.url, config: { jetstream: { stream: 'IMSERVICE' } } })
    fixture.onCleanup(() => server.close())
    await untilSubscribed(server)
    expect(server.bus.status().stream).toMatchObject({ name: 'IMSERVICE', state: 'unavailable' })
    const connection = await client(server)
    const refresh = new Inbox(connection, 'refreshTable')
    const service = await connect({ servers: nats.url })
    fixture.onCleanup(() => service.close())
    service.publish('im.default.send', JSON.stringify({ method: 'refreshTable', args: ['from core'] }))
    expect(await refresh.next()).toEqual(['from core'])
  })
})
