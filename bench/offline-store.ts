/**
 * What offline delivery costs for many users: one durable message each for N simulated users
 * (100 000 by default) with nobody connected, kept by one IMService node; then the size of the
 * store and of the cursor bucket once every user's cursor is written, the server's memory, and the
 * connect-to-first-message latency of official clients whose message was kept.
 *
 *   node --import tsx bench/offline-store.ts [--users 100000] [--clients 200]
 *
 * Starts its own nats-server (JetStream in a temporary folder) and ends it by pid.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { OfflineStore } from '../src/bus/offline-store.js'
import { DefaultHub } from '../hubs/default-hub.js'
import { startTestServer } from '../test/support/im-server.js'
import { buildClient, Inbox } from '../test/support/clients.js'
import { findNatsServer, freePort } from '../test/support/nats-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../test/support/tokens.js'

const arg = (name: string, fallback: number): number => {
  const index = process.argv.indexOf(`--${name}`)
  return index >= 0 ? Number(process.argv[index + 1]) : fallback
}
const USERS = arg('users', 100_000)
const CLIENTS = Math.min(arg('clients', 200), USERS)
const MiB = 1024 * 1024

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
const fmt = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`

const dir = mkdtempSync(join(tmpdir(), 'im-offline-bench-'))
const port = await freePort()
const nats = spawn(findNatsServer(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], { stdio: 'ignore' })
const url = `nats://127.0.0.1:${port}`
try {
  for (let i = 0; ; i++) {
    try {
      const probe = await connect({ servers: url })
      await probe.close()
      break
    } catch (error) {
      if (i > 100) throw error
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const natsRssBefore = rssOf(nats.pid!)
  const server = await startTestServer({
    natsUrl: url,
    hubs: [DefaultHub],
    config: { jwt: { secret: TEST_JWT_SECRET }, jetstream: { stream: 'IM_DEFAULT', offline: { enabled: true } } },
  })
  const nc = await connect({ servers: url })
  const jsm = await jetstreamManager(nc)
  for (;;) {
    const ready = await jsm.consumers.info('IM_DEFAULT', 'im-offline-sorter').then(() => true, () => false)
    if (ready) break
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const nodeRssBefore = process.memoryUsage().rss

  // 1. N users, one durable message each, nobody connected.
  const started = performance.now()
  for (let i = 0; i < USERS; i++) {
    nc.publish('im.default.send.user', JSON.stringify({ userId: `user-${i}`, method: 'notify', args: [{ n: i, text: 'you have a new message' }], durable: true }))
    if (i % 1000 === 999) await nc.flush()
  }
  await nc.flush()
  const published = performance.now()
  for (;;) {
    const { state } = await jsm.streams.info('IM_OFFLINE')
    if (state.messages >= USERS) break
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const kept = performance.now()
  const store = await jsm.streams.info('IM_OFFLINE')
  const capture = await jsm.streams.info('IM_DEFAULT')

  // 2. Connect-time replay: official clients of users whose message is kept.
  const latencies: number[] = []
  for (let i = 0; i < CLIENTS; i++) {
    const userId = `user-${Math.floor((i * USERS) / CLIENTS)}`
    const connection = buildClient(server.hubUrl(), { accessToken: await tokenFor(userId) })
    const inbox = new Inbox(connection, 'notify')
    const begin = performance.now()
    await connection.start()
    await inbox.next(10_000)
    latencies.push(performance.now() - begin)
    await connection.stop()
  }
  latencies.sort((a, b) => a - b)

  // 3. Every user's cursor written (as after each one connected once), and the check a connect
  //    makes for a user with nothing kept (cursor + newest kept message: two direct gets).
  const offline = new OfflineStore(nc, { hub: 'default', stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors', ttlMs: 7 * 24 * 3_600_000, maxPerUser: 1000, duplicateWindowMs: 300_000 })
  const cursorsStarted = performance.now()
  const BATCH = 500
  for (let i = 0; i < USERS; i += BATCH) {
    await Promise.all(Array.from({ length: Math.min(BATCH, USERS - i) }, (_, j) => offline.advance(`user-${i + j}`, capture.state.last_seq)))
  }
  const cursorsDone = performance.now()
  const cursors = await jsm.streams.info('KV_im-offline-cursors')
  const checks: number[] = []
  for (let i = 0; i < 500; i++) {
    const begin = performance.now()
    const userId = `user-${(i * 197) % USERS}`
    await Promise.all([offline.cursor(userId), offline.newest(userId)])
    checks.push(performance.now() - begin)
  }
  checks.sort((a, b) => a - b)
  const natsRss = rssOf(nats.pid!)
  const nodeRss = process.memoryUsage().rss
  const consumers = (await jsm.streams.info('IM_OFFLINE')).state.consumer_count

  const lines = [
    `offline store, ${USERS} users x 1 durable message (payload ${Buffer.byteLength(JSON.stringify({ userId: 'user-50000', method: 'notify', args: [{ n: 50000, text: 'you have a new message' }], durable: true }))} B), nats-server 2.9.10, one IMService node`,
    `publish ${USERS} messages: ${((published - started) / 1000).toFixed(1)} s; all kept in the store after ${((kept - started) / 1000).toFixed(1)} s (${Math.round(USERS / ((kept - started) / 1000))} messages/s sorted)`,
    `store IM_OFFLINE: ${store.state.messages} messages, ${store.state.num_subjects ?? '?'} subjects, ${fmt(store.state.bytes)} (${Math.round(store.state.bytes / USERS)} B per user); consumers on it after the replays: ${consumers}`,
    `capturing stream IM_DEFAULT: ${capture.state.messages} messages, ${fmt(capture.state.bytes)} (kept for jetstream.maxAgeMs, 1 h by default)`,
    `cursors KV_im-offline-cursors: ${cursors.state.messages} keys, ${fmt(cursors.state.bytes)} (${Math.round(cursors.state.bytes / USERS)} B per user); written in ${((cursorsDone - cursorsStarted) / 1000).toFixed(1)} s, ${BATCH} at a time`,
    `connect check of a user with nothing new (cursor + newest kept, two direct gets): p50 ${percentile(checks, 50).toFixed(2)} ms, p99 ${percentile(checks, 99).toFixed(2)} ms`,
    `official client, start() to its kept message (${CLIENTS} users, one after another, WebSockets): p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
    `nats-server RSS ${fmt(natsRssBefore)} -> ${fmt(natsRss)}; store folder on disk: see du below; test process (node + clients) RSS ${fmt(nodeRssBefore)} -> ${fmt(nodeRss)}`,
  ]
  process.stdout.write(`${lines.join('\n')}\n`)
  await nc.close()
  await server.close()
  const du = spawn('du', ['-sh', join(dir, 'jetstream')], { stdio: 'inherit' })
  await new Promise((resolve) => du.once('exit', resolve))
} finally {
  nats.kill('SIGTERM')
  await new Promise((resolve) => nats.once('exit', resolve))
  rmSync(dir, { recursive: true, force: true })
}
process.exit(0)
