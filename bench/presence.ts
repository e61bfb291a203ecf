/**
 * What presence costs: request latency across 3 node processes holding many connections, and the
 * NATS messages one request and one user's connect/disconnect put on the bus.
 *
 *   node --import tsx bench/presence.ts [connectionsPerNode=3000] [requests=300]
 *
 * Starts its own nats-server (JetStream, monitoring) and three IMService nodes (`im serve`), opens
 * raw SignalR connections (one user each, JSON handshake, no negotiate), puts a tenth of them in a
 * group, then asks `presence.user`, `presence.users` (1000 ids) and `presence.group` in closed loops
 * and prints percentiles. Bus messages are read from the server's /varz (in_msgs: published into
 * NATS; out_msgs: delivered) around each measured step, less the heartbeats of the same time.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import WebSocket from 'ws'
import { findNatsServer, freePort } from '../test/support/nats-server.js'
import { ImNode } from './chaos/node-process.js'
import { waitForPort } from './lib/procs.js'
import { JWT_SECRET, mintTokens, userId } from './lib/tokens.js'

const perNode = Number(process.argv[2] ?? 3000)
const requests = Number(process.argv[3] ?? 300)
const NODES = 3
const HANDSHAKE = '{"protocol":"json","version":1}\x1e'

const natsPort = await freePort()
const monitorPort = await freePort()
const store = mkdtempSync(join(tmpdir(), 'presence-bench-'))
const nats = spawn(findNatsServer(), ['-a', '127.0.0.1', '-p', String(natsPort), '-m', String(monitorPort), '-js', '-sd', store], { stdio: 'ignore' })
const nodes: ImNode[] = []
const sockets: WebSocket[] = []
try {
  await waitForPort(natsPort, 10_000, () => nats.exitCode === null)
  const natsUrl = `nats://127.0.0.1:${natsPort}`
  const env = { IM_JWT_SECRET: JWT_SECRET, IM_MAX_CONNECTIONS_PER_ADDRESS: '1000000', IM_MAX_CONNECTIONS_PER_USER: '1000000' }
  for (let i = 0; i < NODES; i++) nodes.push(await ImNode.start({ natsUrl, nodeId: `presence-${i + 1}`, env }))
  const nc = await connect({ servers: natsUrl, name: 'presence-bench' })
  const varz = async (): Promise<{ in: number; out: number }> => {
    const v = (await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json()) as { in_msgs: number; out_msgs: number }
    return { in: v.in_msgs, out: v.out_msgs }
  }

  // Connections: user i on node i % 3, opened 200 at a time.
  const total = perNode * NODES
  const tokens = await mintTokens(Array.from({ length: total + 200 }, (_, i) => i))
  const open = (node: ImNode, token: string): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${node.hubUrl().replace('http', 'ws')}?access_token=${encodeURIComponent(token)}`, { perMessageDeflate: false })
      ws.once('open', () => ws.send(HANDSHAKE))
      ws.once('message', () => resolve(ws))
      ws.once('error', reject)
    })
  // Bus messages of one user's connect and disconnect, on the idle cluster: 200 users, one after another.
  const online = nc.subscribe('im.default.user.online')
  const offline = nc.subscribe('im.default.user.offline')
  const quietStart = await varz()
  const quietFrom = Date.now()
  await new Promise((resolve) => setTimeout(resolve, 3000))
  const quiet = await varz()
  const quietPerMs = { in: (quiet.in - quietStart.in) / (Date.now() - quietFrom), out: (quiet.out - quietStart.out) / (Date.now() - quietFrom) }
  const cycleFrom = Date.now()
  const before = await varz()
  const fresh: WebSocket[] = []
  for (let k = 0; k < 200; k++) fresh.push(await open(nodes[k % NODES]!, tokens[total + k]!))
  for (const ws of fresh) ws.close()
  const seen = { online: 0, offline: 0 }
  const deadline = Date.now() + 20_000
  const count = async (sub: typeof online, key: 'online' | 'offline'): Promise<void> => {
    for await (const _ of sub) if (++seen[key] === 200) break
  }
  await Promise.race([Promise.all([count(online, 'online'), count(offline, 'offline')]), new Promise((resolve) => setTimeout(resolve, deadline - Date.now()))])
  const after = await varz()
  const ms = Date.now() - cycleFrom
  const cycle = { in: (after.in - before.in - quietPerMs.in * ms) / 200, out: (after.out - before.out - quietPerMs.out * ms) / 200 }
  console.log(`connect + disconnect of a user with no other connection: ${cycle.in.toFixed(1)} messages in, ${cycle.out.toFixed(1)} out per user (online ${seen.online}/200, offline ${seen.offline}/200 events heard; heartbeats subtracted: ${(quietPerMs.in * 1000).toFixed(1)}/s in)`)
  // Every user's online event, so that the questions are asked once the table is written (a burst
  // of connects leaves writes queued for a while; they would be counted with the questions).
  let announced = 0
  const announcements = nc.subscribe('im.default.user.online', { callback: () => void announced++ })
  await nc.flush()
  const opened = Date.now()
  for (let start = 0; start < total; start += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, total - start) }, (_, k) => open(nodes[(start + k) % NODES]!, tokens[start + k]!)))
    sockets.push(...batch)
  }
  console.log(`opened ${sockets.length} connections (${perNode} per node, one user each) in ${Date.now() - opened} ms`)
  for (const deadline = Date.now() + 60_000; announced < total && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50))
  announcements.unsubscribe()
  console.log(`online events: ${announced} of ${total}, the last ${Date.now() - opened} ms after the first connect`)
  for (let i = 0; i < total; i += 10) nc.publish('im.default.groups.add', JSON.stringify({ group: 'room-1', userId: userId(i) }))
  await nc.flush()

  const ask = async (subject: string, body: unknown): Promise<number> => {
    const started = process.hrtime.bigint()
    await nc.request(subject, JSON.stringify(body), { timeout: 5000 })
    return Number(process.hrtime.bigint() - started) / 1e6
  }
  const percentiles = (samples: number[]): string => {
    const sorted = [...samples].sort((a, b) => a - b)
    const at = (p: number): string => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(2)
    return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms (${samples.length} requests)`
  }
  const measure = async (name: string, count: number, body: (i: number) => unknown, subject: string): Promise<void> => {
    for (let i = 0; i < 20; i++) await ask(subject, body(i))
    const before = await varz()
    const samples: number[] = []
    for (let i = 0; i < count; i++) samples.push(await ask(subject, body(i)))
    const after = await varz()
    console.log(`${name}: ${percentiles(samples)}; bus per request: ${((after.in - before.in) / count).toFixed(1)} in, ${((after.out - before.out) / count).toFixed(1)} out (heartbeats included)`)
  }
  // The reference of the same moment: a NATS request answered at once by a responder in this process.
  const echo = await connect({ servers: natsUrl, name: 'presence-bench-echo' })
  echo.subscribe('presence.bench.echo', { callback: (_, m) => void m.respond(m.data) })
  await echo.flush()
  await measure('reference: NATS echo request', requests, () => ({ userId: 'x' }), 'presence.bench.echo')
  await measure('presence.user', requests, (i) => ({ userId: userId((i * 7919) % total) }), 'im.default.presence.user')
  const ids = Array.from({ length: 1000 }, (_, i) => userId((i * 13) % (total + 200)))
  await measure('presence.users (1000 ids)', Math.max(20, Math.floor(requests / 5)), () => ({ userIds: ids }), 'im.default.presence.users')
  await measure('presence.group (a tenth of all)', Math.max(20, Math.floor(requests / 5)), () => ({ group: 'room-1' }), 'im.default.presence.group')

  await nc.close()
  await echo.close()
} finally {
  for (const ws of sockets) ws.terminate()
  await Promise.all(nodes.map((node) => node.stop()))
  nats.kill('SIGTERM')
  rmSync(store, { recursive: true, force: true })
}
