/**
 * The watch flood, bounded: `npx tsx bench/attacks/watch-flood.ts [--connections 20]
 * [--watches 1000] [--per-second 45] [--shared]`. Starts a nats-server (with monitoring) and one
 * IMService node in its own process (heap capped at 1 GiB, so an unbounded node dies there instead
 * of taking the machine), opens `--connections` official clients on loopback that each try
 * `--watches` watches of DefaultHub, paced under the default invocation rate (50/s, bursts of
 * 100), each of its own topic (or all of one topic with `--shared`), then prints what the node
 * holds: NATS subscriptions of its connection (the nats-server's /connz), RSS and heap after a
 * full GC, and again once the clients left. Every loop is bounded in count and time.
 */
import * as signalR from '@microsoft/signalr'
import { startNatsServer } from '../../test/support/nats-server.js'
import type { NatsServer } from '../../test/support/nats-server.js'
import { ImNode } from '../chaos/node-process.js'

interface Args {
  readonly connections: number
  readonly watches: number
  readonly perSecond: number
  readonly shared: boolean
}

function parseArgs(argv: readonly string[]): Args {
  const args = { connections: 20, watches: 1000, perSecond: 45, shared: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const number = (max: number): number => {
      const value = Number(argv[++i])
      if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${arg} takes an integer from 1 to ${max}`)
      return value
    }
    if (arg === '--connections') args.connections = number(200)
    else if (arg === '--watches') args.watches = number(5000)
    else if (arg === '--per-second') args.perSecond = number(1000)
    else if (arg === '--shared') args.shared = true
    else throw new Error(`unknown argument ${arg} (use --connections N, --watches N, --per-second N, --shared)`)
  }
  return args
}

/** A flood must end on its own: the whole run, and each wait, is bounded. */
const RUN_LIMIT_MS = 180_000
const SETTLE_MS = 10_000
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The subjects the node's NATS connection subscribes to, from the nats-server's /connz. */
async function nodeSubscriptions(nats: NatsServer, nodeId: string): Promise<string[]> {
  const res = await fetch(`${nats.monitorUrl}/connz?subs=1&limit=1024`, { signal: AbortSignal.timeout(5000) })
  const body = (await res.json()) as { connections?: Array<{ name?: string; subscriptions_list?: string[] }> }
  return body.connections?.find((c) => c.name === `imservice-${nodeId}`)?.subscriptions_list ?? []
}

interface Tally {
  refused: number
  otherErrors: number
  firstRefusal: string | undefined
}

/** One attacking connection: `count` watches, `perSecond` at most, none disposed. */
async function attack(client: signalR.HubConnection, index: number, args: Args, tally: Tally, deadline: number): Promise<void> {
  const gapMs = 1000 / args.perSecond
  const started = performance.now()
  for (let i = 0; i < args.watches && performance.now() < deadline; i++) {
    const topic = args.shared ? 'flood.shared' : `flood.c${index}.t${i}`
    client.stream('watch', topic).subscribe({
      next: () => {},
      complete: () => {},
      error: (error: Error) => {
        if (error.message.includes('Too many watches')) {
          tally.refused++
          tally.firstRefusal ??= error.message
        } else tally.otherErrors++
      },
    })
    const due = started + (i + 1) * gapMs
    const wait = due - performance.now()
    if (wait > 0) await sleep(wait)
  }
}

async function settle(read: () => Promise<number>): Promise<number> {
  const deadline = performance.now() + SETTLE_MS
  let last = await read()
  for (;;) {
    await sleep(500)
    const now = await read()
    if (now === last || performance.now() > deadline) return now
    last = now
  }
}

const mib = (bytes: number | undefined): string => (bytes === undefined ? 'n/a' : `${(bytes / 2 ** 20).toFixed(1)} MiB`)

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const deadline = performance.now() + RUN_LIMIT_MS
  const nats = await startNatsServer({ monitoring: true })
  const nodeId = 'watch-flood'
  const node = await ImNode.start({
    natsUrl: nats.url,
    nodeId,
    env: { NODE_OPTIONS: '--max-old-space-size=1024', IM_MAX_CONNECTIONS_PER_ADDRESS: '10000' },
  })
  const clients: signalR.HubConnection[] = []
  try {
    const watchSubs = async (): Promise<number> => (await nodeSubscriptions(nats, nodeId)).filter((s) => s.startsWith('im.default.watch.')).length
    const before = await node.memory(true)
    const subsBefore = (await nodeSubscriptions(nats, nodeId)).length
    for (let i = 0; i < args.connections; i++) {
      const client = new signalR.HubConnectionBuilder()
        .withUrl(node.hubUrl(), { transport: signalR.HttpTransportType.WebSockets, skipNegotiation: true })
        .configureLogging(signalR.LogLevel.None)
        .build()
      await client.start()
      clients.push(client)
    }
    const tally: Tally = { refused: 0, otherErrors: 0, firstRefusal: undefined }
    const began = performance.now()
    await Promise.all(clients.map((client, i) => attack(client, i, args, tally, deadline)))
    const attackSeconds = (performance.now() - began) / 1000
    const held = await settle(watchSubs)
    const during = await node.memory(true)
    const metrics = await node.metrics()
    // Taken now: stopping a client ends its open watches with errors of their own.
    const { refused, otherErrors } = tally
    for (const client of clients) await client.stop().catch(() => undefined)
    clients.length = 0
    const heldAfter = await settle(watchSubs)
    const after = await node.memory(true)

    const tried = args.connections * args.watches
    const rows: Array<[string, string]> = [
      ['attack', `${args.connections} connections x ${args.watches} watches (${args.shared ? 'one shared topic' : 'a topic each'}), ${args.perSecond}/s per connection, ${attackSeconds.toFixed(1)} s`],
      ['node alive', String(node.alive)],
      ['watches tried', String(tried)],
      ['refused (per-connection bound)', String(refused)],
      ['other errors during the attack', String(otherErrors)],
      ['first refusal', tally.firstRefusal ?? '-'],
      ['NATS subscriptions of the node, before', String(subsBefore)],
      ['  watch subscriptions during the attack', String(held)],
      ['  watch subscriptions after the clients left', String(heldAfter)],
      ['im_watches_open / im_watch_subscriptions', `${metrics.watches_open ?? 'n/a'} / ${metrics.watch_subscriptions ?? 'n/a'}`],
      ['RSS before / during / after', `${mib(before.rss)} / ${mib(during.rss)} / ${mib(after.rss)}`],
      ['peak RSS', mib(after.rssPeak)],
      ['heap after GC before / during / after', `${mib(before.heapUsed)} / ${mib(during.heapUsed)} / ${mib(after.heapUsed)}`],
    ]
    const width = Math.max(...rows.map(([k]) => k.length))
    for (const [key, value] of rows) console.log(`${key.padEnd(width)}  ${value}`)
  } finally {
    await Promise.all(clients.map((client) => client.stop().catch(() => undefined)))
    await node.stop()
    await nats.stop()
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
