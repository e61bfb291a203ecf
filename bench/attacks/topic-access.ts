/**
 * Topic access, attacked on a real node (`node cli/bin.mjs serve` with a JWT key, a real
 * nats-server, official clients), loopback only and bounded in count and time:
 *
 * 1. Eavesdropping: alice, bob and an anonymous client all `watch('user.alice.inbox')`; a service
 *    publishes 3 messages there. Prints what each received and how each watch ended.
 * 2. Authorizer flood: with the authorizer on (a fake one on NATS that refuses everything), one
 *    signed-in client publishes to N distinct topics. Prints the node's RSS before and after, and
 *    the authorizer counters: answers are cached up to IM_TOPIC_AUTHORIZER_CACHE_SIZE, no more.
 *
 *   node --import tsx bench/attacks/topic-access.ts [--root <checkout>] [--topics 20000]
 *
 * `--root` runs the node of another checkout (e.g. one without topic rules, to see the finding);
 * the flood then needs topic rules and is skipped when the node has none.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as signalR from '@microsoft/signalr'
import { connect } from '@nats-io/transport-node'
import { SignJWT } from 'jose'
import { startNatsServer } from '../../test/support/nats-server.js'

const SECRET = 'attack-script-secret-that-is-long-enough-for-hs256'
const HERE = dirname(fileURLToPath(import.meta.url))
const args = process.argv.slice(2)
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`)
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback
}
const ROOT = resolve(option('root', resolve(HERE, '../..')))
const TOPICS = Math.min(Number(option('topics', '20000')), 100_000)
const DEADLINE_MS = 60_000

const token = (sub: string): Promise<string> =>
  new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setExpirationTime('1h').sign(new TextEncoder().encode(SECRET))

async function startNode(natsUrl: string, env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('IM_'))) as Record<string, string>
  const proc = spawn(process.execPath, ['--max-old-space-size=1024', 'cli/bin.mjs', 'serve'], {
    cwd: ROOT,
    env: { ...clean, IM_PORT: '0', IM_HOST: '127.0.0.1', IM_NATS_URL: natsUrl, IM_LOG_LEVEL: 'error', IM_JWT_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no banner within 20 s:\n${output}`)), 20_000)
    const read = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /IMService listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        done(match[1]!)
      }
    }
    proc.stdout!.on('data', read)
    proc.stderr!.on('data', read)
    proc.once('exit', (code) => fail(new Error(`node exited (${code}):\n${output}`)))
  })
  return { proc, url }
}

function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)
  return Math.round(kb / 102.4) / 10
}

async function counters(url: string): Promise<Record<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text()
  return Object.fromEntries([...text.matchAll(/^im_(topic_[a-z_]+)_total (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]))
}

async function client(url: string, user?: string): Promise<signalR.HubConnection> {
  const accessToken = user === undefined ? undefined : await token(user)
  const c = new signalR.HubConnectionBuilder()
    .withUrl(`${url}/signalr-hubs/default`, { transport: signalR.HttpTransportType.WebSockets, ...(accessToken ? { accessTokenFactory: () => accessToken } : {}) })
    .configureLogging(signalR.LogLevel.None)
    .build()
  await c.start()
  return c
}

async function eavesdrop(natsUrl: string): Promise<void> {
  const node = await startNode(natsUrl, {})
  const nc = await connect({ servers: natsUrl })
  try {
    const watchers = { alice: await client(node.url, 'alice'), bob: await client(node.url, 'bob'), anonymous: await client(node.url) }
    const seen: Record<string, { items: unknown[]; ended?: string }> = {}
    for (const [name, c] of Object.entries(watchers)) {
      const record: { items: unknown[]; ended?: string } = { items: [] }
      seen[name] = record
      c.stream('watch', 'user.alice.inbox').subscribe({ next: (item) => record.items.push(item), complete: () => (record.ended = 'completed'), error: (e) => (record.ended = e.message) })
    }
    // Give the watches a moment to subscribe (bounded), then publish.
    await new Promise((r) => setTimeout(r, 500))
    for (let i = 1; i <= 3; i++) nc.publish('im.default.watch.user.alice.inbox', JSON.stringify({ secret: i }))
    await nc.flush()
    await new Promise((r) => setTimeout(r, 500))
    console.log('1. watch user.alice.inbox, service publishes 3 messages:')
    for (const [name, record] of Object.entries(seen)) console.log(`   ${name}: received ${record.items.length}/3${record.ended ? `; ended: ${record.ended}` : ''}`)
    await Promise.all(Object.values(watchers).map((c) => c.stop()))
  } finally {
    await nc.close()
    node.proc.kill('SIGKILL')
  }
}

async function flood(natsUrl: string): Promise<void> {
  const node = await startNode(natsUrl, {
    IM_TOPIC_AUTHORIZER: 'true',
    IM_TOPIC_RULES: JSON.stringify([{ pattern: 'public.>', watch: 'anyone', publish: 'authenticated' }]),
    IM_MAX_INVOCATIONS_PER_SECOND: '1000000',
    IM_INVOCATION_BURST: '1000000',
  })
  const nc = await connect({ servers: natsUrl })
  let asked = 0
  nc.subscribe('im.default.authorize', { callback: (_e, m) => void (asked++, m.respond(JSON.stringify({ allow: false, reason: 'no' }))) })
  await nc.flush()
  try {
    const callers = await Promise.all([1, 2, 3, 4].map((i) => client(node.url, `mallory${i}`)))
    const before = rssMb(node.proc.pid!)
    const started = Date.now()
    let next = 0
    let refused = 0
    await Promise.all(
      callers.map(async (c) => {
        while (next < TOPICS && Date.now() - started < DEADLINE_MS) {
          const topic = `orders.${next++}`
          await c.invoke('publish', topic, 1).catch(() => refused++)
        }
      }),
    )
    const seconds = (Date.now() - started) / 1000
    console.log(`2. authorizer flood: ${next} distinct topics in ${seconds.toFixed(1)} s, ${refused} refused, authorizer asked ${asked} times`)
    console.log(`   RSS before ${before} MB, after ${rssMb(node.proc.pid!)} MB`)
    console.log(`   counters: ${JSON.stringify(await counters(node.url))}`)
    await Promise.all(callers.map((c) => c.stop()))
  } finally {
    await nc.close()
    node.proc.kill('SIGKILL')
  }
}

const nats = await startNatsServer()
try {
  await eavesdrop(nats.url)
  if (readFileSync(resolve(ROOT, 'src/config/config.ts'), 'utf8').includes('TopicsConfig')) await flood(nats.url)
  else console.log('2. authorizer flood: skipped, this checkout has no topic rules')
} finally {
  await nats.stop()
}
