/**
 * `node --import tsx bench/attacks/msgpack-bomb.ts [--root <checkout>]`: the MessagePack
 * declared-length bomb against a node started as `npm start` does (`node cli/bin.mjs serve`, with
 * `--max-old-space-size=1024` so that a vulnerable build dies at about 1 GB instead of taking the
 * machine), on loopback, with its own nats-server. An anonymous client completes a messagepack
 * handshake on a raw WebSocket and sends one frame of nested array 32 headers, each declaring ten
 * million elements: 41 bytes, then 402 bytes. For each, the table gives the node's RSS before and
 * after, its peak RSS (the kernel's high-water mark), the heap after a full GC, the Close the
 * attacker got, and whether a bystander client still receives a broadcast.
 *
 * `--root` runs the node from another checkout (e.g. one without the fix) with this script.
 * Bounded: two frames, each waited on for at most 20 s.
 */
import { resolve } from 'node:path'
import WebSocket from 'ws'
import { messagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import { MessageType } from '../../src/protocol/messages.js'
import { connectClient, Inbox, withTimeout } from '../../test/support/clients.js'
import { BOMB_402, BOMB_41 } from '../../test/support/msgpack-bombs.js'
import { startNatsServer } from '../../test/support/nats-server.js'
import { TestService } from '../../test/support/service.js'
import { ImNode } from '../chaos/node-process.js'

const HEAP_CAP_MB = 1024
const WAIT_MS = 20_000
const MB = 1024 * 1024

interface Outcome {
  readonly frame: string
  readonly alive: boolean
  readonly exit?: string
  readonly rssBefore: number
  readonly rssAfter?: number
  readonly rssPeak?: number
  readonly heapAfter?: number
  readonly closeError?: string
  readonly bystander: string
}

function parseRoot(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--root')
  if (at === -1) return undefined
  const value = argv[at + 1]
  if (!value) throw new Error('--root needs a checkout directory')
  return resolve(value)
}

/**
 * Handshake, then the bomb: resolves with the error of the Close message the node sent (if any)
 * once the socket closes, the node exits, or WAIT_MS pass.
 */
async function attack(node: ImNode, frame: Uint8Array): Promise<string | undefined> {
  const ws = new WebSocket(node.hubUrl().replace('http', 'ws'))
  ws.on('error', () => {})
  const received: Buffer[] = []
  ws.on('message', (data: Buffer) => received.push(data))
  const closed = new Promise<void>((done) => ws.once('close', () => done()))
  await withTimeout(new Promise((done, fail) => ws.once('open', done).once('error', fail)), 5000, 'the socket to open')
  const replied = new Promise<void>((done) => ws.once('message', () => done()))
  ws.send(Buffer.from('{"protocol":"messagepack","version":1}\u001e'), { binary: true })
  await withTimeout(replied, 5000, 'the handshake reply')
  ws.send(frame, { binary: true })
  const exited = new Promise<void>((done) => (node.alive ? node.proc.once('exit', () => done()) : done()))
  let timer: NodeJS.Timeout | undefined
  await Promise.race([closed, exited, new Promise<void>((done) => (timer = setTimeout(done, WAIT_MS)))])
  clearTimeout(timer)
  ws.terminate()
  // A node killed by the frame closes the socket a moment before its exit is seen: wait for it.
  await Promise.race([exited, new Promise((done) => setTimeout(done, 500))])
  for (const data of received.slice(1)) {
    const close = messagePackHubProtocol.parseMessages(new Uint8Array(data)).messages.find((m) => m.type === MessageType.Close)
    if (close?.type === MessageType.Close) return close.error ?? '(none)'
  }
  return undefined
}

async function main(): Promise<void> {
  const root = parseRoot(process.argv.slice(2))
  await using nats = await startNatsServer()
  const node = await ImNode.start({ natsUrl: nats.url, nodeId: 'msgpack-bomb', nodeArgs: [`--max-old-space-size=${HEAP_CAP_MB}`], ...(root ? { root } : {}) })
  await using service = await TestService.connect(nats.url)
  const bystander = await connectClient(node.hubUrl())
  const inbox = new Inbox(bystander, 'afterBomb')
  const outcomes: Outcome[] = []
  try {
    const start = await node.memory(true)
    console.log(`node pid ${node.pid} from ${root ?? 'this checkout'}: RSS ${mb(start.rss)}, heap ${mb(start.heapUsed)} after start and one client`)
    for (const [name, frame] of [['41 B', BOMB_41], ['402 B', BOMB_402]] as const) {
      if (!node.alive) break
      const before = await node.memory()
      const closeError = await attack(node, frame)
      if (!node.alive) {
        outcomes.push({ frame: name, alive: false, exit: `code ${node.proc.exitCode}, signal ${node.proc.signalCode}`, rssBefore: before.rss, ...(closeError ? { closeError } : {}), bystander: 'node gone' })
        break
      }
      const after = await node.memory(true).catch(() => undefined)
      if (!after || !node.alive) {
        outcomes.push({ frame: name, alive: false, exit: `code ${node.proc.exitCode}, signal ${node.proc.signalCode}`, rssBefore: before.rss, ...(closeError ? { closeError } : {}), bystander: 'node gone' })
        break
      }
      await service.publish('im.default.send', { method: 'afterBomb', args: [name] })
      const bystanderGot = await inbox.next(5000).then(
        (args) => `received ${JSON.stringify(args)}`,
        (error: Error) => `FAILED: ${error.message}`,
      )
      outcomes.push({ frame: name, alive: true, rssBefore: before.rss, rssAfter: after.rss, rssPeak: after.rssPeak, ...(after.heapUsed !== undefined ? { heapAfter: after.heapUsed } : {}), ...(closeError ? { closeError } : {}), bystander: bystanderGot })
    }
  } finally {
    await bystander.stop().catch(() => {})
    await node.stop()
  }
  report(outcomes, node)
}

function mb(bytes: number | undefined): string {
  return bytes === undefined ? '-' : `${Math.round(bytes / MB)} MB`
}

function report(outcomes: readonly Outcome[], node: ImNode): void {
  console.log('')
  console.log('| frame | node after | RSS before | RSS after | peak RSS | heap after GC | Close error to the attacker | bystander broadcast |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const o of outcomes) {
    const state = o.alive ? 'up' : `died (${o.exit})`
    console.log(`| ${o.frame} | ${state} | ${mb(o.rssBefore)} | ${mb(o.rssAfter)} | ${mb(o.rssPeak)} | ${mb(o.heapAfter)} | ${o.closeError ?? '-'} | ${o.bystander} |`)
  }
  if (outcomes.some((o) => !o.alive)) {
    const fatal = node.log.split('\n').filter((line) => /FATAL|heap limit|Allocation failed/.test(line))
    if (fatal.length > 0) console.log(`\nnode output: ${fatal.join(' / ')}`)
  }
}

await main()
