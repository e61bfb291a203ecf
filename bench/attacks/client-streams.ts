/**
 * Client-stream attacks against a real IMService node, bounded in bytes and time, reporting the
 * node's RSS (from /proc) before, at its peak and after each attack, and whether a bystander is
 * still served. Each attack gets a fresh node with `--max-old-space-size=1024`, so an unbounded
 * one dies at about 1 GB instead of taking the machine.
 *
 *   A: one connection runs publishStream and queues 32 more, then sends ~30 KB stream items
 *      (arrays of numbers) round robin to all 33 streams, `--mb` MB in all.
 *   B: one connection runs publishStream, then calls publish(topic) 32 times with 3,000 stream
 *      ids each, then sends a 100-byte item to every one of the 96,000 ids.
 *
 * Usage: node --import tsx bench/attacks/client-streams.ts [--root DIR] [--attack a|b|both] [--mb 20]
 * `--root` runs the node from another checkout (e.g. an older commit unpacked with git archive,
 * its node_modules linked to this one's) to compare before and after.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { connectClient } from '../../test/support/clients.js'
import { startNatsServer } from '../../test/support/nats-server.js'
import { RawHubClient } from '../../test/support/raw-hub-client.js'

const MB = 1024 * 1024
const RS = '\u001e'
const BANNER = /IMService listening on (http:\/\/[^\s]+)/
/** No attack phase runs longer than this. */
const PHASE_MS = 60_000

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: fileURLToPath(new URL('../../', import.meta.url)) },
    attack: { type: 'string', default: 'both' },
    mb: { type: 'string', default: '20' },
  },
})
const root = resolve(values.root!)
const megabytes = Number(values.mb)

interface Node {
  readonly proc: ChildProcess
  readonly url: string
  output: string
}

async function startNode(natsUrl: string): Promise<Node> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('IM_') && value !== undefined) env[key] = value
  Object.assign(env, { IM_PORT: '0', IM_HOST: '127.0.0.1', IM_NATS_URL: natsUrl, IM_LOG_LEVEL: 'warn' })
  const proc = spawn(process.execPath, ['--max-old-space-size=1024', 'cli/bin.mjs', 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 20 s:\n${output}`)), 20_000)
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-8000)
      const match = BANNER.exec(output)
      if (match) {
        clearTimeout(timer)
        resolveUrl(match[1]!)
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`node exited at start (${code}):\n${output}`)))
  })
  const node: Node = { proc, url, output }
  proc.stderr!.on('data', (chunk: Buffer) => (node.output = (node.output + chunk.toString()).slice(-8000)))
  return node
}

function alive(node: Node): boolean {
  return node.proc.exitCode === null && node.proc.signalCode === null
}

function rssMb(node: Node): number {
  if (!alive(node)) return NaN
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${node.proc.pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : NaN
  } catch {
    return NaN
  }
}

/** Samples RSS every 50 ms until stopped; returns the peak. */
function sampleRss(node: Node): () => number {
  let peak = rssMb(node)
  const timer = setInterval(() => {
    const now = rssMb(node)
    if (now > peak) peak = now
  }, 50)
  return () => {
    clearInterval(timer)
    return peak
  }
}

/** A round trip behind everything sent: an unknown method is answered at once, not queued. */
async function readEverything(client: RawHubClient): Promise<string> {
  client.send({ type: 1, invocationId: 'probe', target: 'noSuchMethod', arguments: [] })
  try {
    await client.completion('probe', 30_000)
    return 'read'
  } catch {
    return 'not read within 30 s'
  }
}

async function attackA(client: RawHubClient): Promise<string> {
  client.send({ type: 1, invocationId: 'hold', target: 'publishStream', arguments: ['attack.a'], streamIds: ['s0'] })
  const ids = ['s0']
  for (let i = 1; i <= 32; i++) {
    client.send({ type: 1, invocationId: `a${i}`, target: 'publishStream', arguments: ['attack.a'], streamIds: [`s${i}`] })
    ids.push(`s${i}`)
  }
  const item = `[${Array(15_000).fill(1).join(',')}]`
  const deadline = Date.now() + PHASE_MS
  let sent = 0
  for (let n = 0; sent < megabytes * MB; n++) {
    const frame = `{"type":2,"invocationId":"${ids[n % ids.length]}","item":${item}}${RS}`
    if (!(await client.sendPaced(frame, deadline))) break
    sent += frame.length
  }
  const refused = await client.completion('a32', 1000).then((c) => c.error ?? 'accepted', () => 'no answer')
  return `sent ${(sent / MB).toFixed(1)} MB; 33rd stream: ${refused}`
}

async function attackB(client: RawHubClient): Promise<string> {
  client.send({ type: 1, invocationId: 'hold', target: 'publishStream', arguments: ['attack.b'], streamIds: ['s0'] })
  const deadline = Date.now() + PHASE_MS
  const item = JSON.stringify('x'.repeat(100))
  for (let call = 0; call < 32; call++) {
    client.send({ type: 1, invocationId: `b${call}`, target: 'publish', arguments: ['attack.b'], streamIds: Array.from({ length: 3000 }, (_, i) => `b${call}-${i}`) })
  }
  let sent = 0
  for (let call = 0; call < 32; call++) {
    for (let start = 0; start < 3000; start += 500) {
      let batch = ''
      for (let i = start; i < start + 500; i++) batch += `{"type":2,"invocationId":"b${call}-${i}","item":${item}}${RS}`
      if (!(await client.sendPaced(batch, deadline))) return `sent ${(sent / MB).toFixed(1)} MB, then stopped`
      sent += batch.length
    }
  }
  const refused = await client.completion('b0', 1000).then((c) => c.error ?? 'accepted', () => 'no answer (queued)')
  return `sent ${(sent / MB).toFixed(1)} MB; each call: ${refused}`
}

async function bystander(node: Node): Promise<string> {
  if (!alive(node)) return 'node is gone'
  try {
    await using client = await connectClient(`${node.url}/signalr-hubs/default`)
    await client.invoke('publish', 'bystander.ok', 1)
    return 'served'
  } catch (error) {
    return `failed: ${(error as Error).message}`
  }
}

async function run(name: string, attack: (client: RawHubClient) => Promise<string>, natsUrl: string): Promise<void> {
  const node = await startNode(natsUrl)
  try {
    // One ordinary call first, so the baseline includes what any first connection costs.
    await bystander(node)
    const before = rssMb(node)
    const stopSampling = sampleRss(node)
    const client = await RawHubClient.connect(`${node.url}/signalr-hubs/default`)
    const what = await attack(client)
    const read = alive(node) ? await readEverything(client) : 'node is gone'
    const peak = stopSampling()
    const after = rssMb(node)
    const served = await bystander(node)
    console.log(`attack ${name} (${root})`)
    console.log(`  ${what}`)
    console.log(`  node read everything: ${read}; bystander: ${served}`)
    console.log(`  RSS MB: before ${before.toFixed(0)}, peak ${peak.toFixed(0)} (+${(peak - before).toFixed(0)}), after ${alive(node) ? after.toFixed(0) : 'node died'}`)
    if (!alive(node)) console.log(`  node exit: code ${node.proc.exitCode}, signal ${node.proc.signalCode}; last output: ${node.output.slice(-300).replace(/\s+/g, ' ')}`)
    if (client.ws.readyState === client.ws.OPEN) await client.close().catch(() => {})
  } finally {
    node.proc.kill('SIGKILL')
  }
}

const nats = await startNatsServer()
try {
  if (values.attack === 'a' || values.attack === 'both') await run('A', attackA, nats.url)
  if (values.attack === 'b' || values.attack === 'both') await run('B', attackB, nats.url)
} finally {
  await nats.stop()
}
