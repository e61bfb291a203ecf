/**
 * DefaultHub's `watch` under load, with the official client against a node on a real nats-server:
 * watchers of a topic share one NATS subscription on the node (counted by the nats-server's own
 * /connz), a connection holds at most `hubs.maxWatchesPerConnection` watches, and watches that
 * end give back their slot and, with the last watcher of a topic, the subscription.
 */
import type * as signalR from '@microsoft/signalr'
import { describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { Hub, HubBase, HubStream } from '../../src/index.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const REFUSED = "An unexpected error occurred invoking 'watch' on the server. HubException: Too many watches on this connection: at most 64 may be open at once."

const fixture = natsFixture({ nats: { monitoring: true } })

/** One watch as the client sees it: the items it got and how it ended. */
interface Watch {
  readonly items: unknown[]
  error?: string
  completed: boolean
  readonly subscription: signalR.ISubscription<unknown>
  /** Resolves with the error text once the stream ends. */
  readonly ended: Promise<string | undefined>
}

function watch(client: TestClient, topic: string, method = 'watch'): Watch {
  let settle: (error: string | undefined) => void = () => {}
  const ended = new Promise<string | undefined>((resolve) => (settle = resolve))
  const state = { items: [] as unknown[], completed: false, ended } as Omit<Watch, 'subscription'> & { error?: string }
  const subscription = client.stream(method, topic).subscribe({
    next: (item) => state.items.push(item),
    complete: () => {
      state.completed = true
      settle(undefined)
    },
    error: (error) => {
      state.error = error.message
      settle(error.message)
    },
  })
  return Object.assign(state, { subscription })
}

/** The subjects the node's own NATS connection subscribes to, as the nats-server reports them. */
async function nodeSubscriptions(server: TestServer): Promise<string[]> {
  const res = await fetch(`${fixture.nats.monitorUrl}/connz?subs=1&limit=1024`, { signal: AbortSignal.timeout(3000) })
  const body = (await res.json()) as { connections?: Array<{ name?: string; subscriptions_list?: string[] }> }
  const connection = body.connections?.find((c) => c.name === `imservice-${server.nodeId}`)
  return connection?.subscriptions_list ?? []
}

async function watchSubscriptions(server: TestServer, prefix = 'im.default.watch.'): Promise<string[]> {
  return (await nodeSubscriptions(server)).filter((subject) => subject.startsWith(prefix))
}

/** `im_<name>` and `im_<name>_total` lines of the node's /metrics, by name. */
async function metrics(server: TestServer): Promise<Record<string, number>> {
  const text = await (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text()
  return Object.fromEntries(text.split('\n').flatMap((line) => {
    const match = /^im_([a-z_]+) (\d+)$/.exec(line)
    return match ? [[match[1]!, Number(match[2])]] : []
  }))
}

const WAIT = { timeout: 10_000, interval: 25 }

/** Hub code that watches with a signal of its own, one that never aborts. */
@Hub({ name: 'relay', path: '/hubs/relay' })
class RelayHub extends HubBase {
  @HubStream()
  async *relay(topic: string): AsyncIterable<unknown> {
    yield* this.bus.watch(`relay.${topic}`, new AbortController().signal)
  }
}

describe('DefaultHub watch limits', () => {
  it('refuses the 65th watch of a connection with a precise error while the first 64 keep receiving', async () => {
    await using server = await startTestServer({ natsUrl: fixture.nats.url })
    await using client = await connectClient(server.hubUrl())
    const watches = Array.from({ length: 64 }, (_, i) => watch(client, `cap.t${i}`))
    await vi.waitFor(async () => expect(await watchSubscriptions(server)).toHaveLength(64), WAIT)

    const refused = watch(client, 'cap.one-too-many')
    expect(await withTimeout(refused.ended, 5000, 'the refusal')).toBe(REFUSED)
    expect(await metrics(server)).toMatchObject({ watches_refused_connection_limit_total: 1, watches_open: 64, watch_subscriptions: 64 })
    expect(await watchSubscriptions(server)).not.toContain('im.default.watch.cap.one-too-many')

    for (let i = 0; i < 64; i++) await fixture.service.publish(`im.default.watch.cap.t${i}`, { n: i })
    await vi.waitFor(() => expect(watches.map((w) => w.items)).toEqual(watches.map((_, i) => [{ n: i }])), WAIT)
    expect(watches.every((w) => w.error === undefined && !w.completed)).toBe(true)
    await expect(client.invoke('publish', 'still.served')).resolves.toBeNull()
  })

  it('gives a slot back when a watch is disposed, and every slot and subscription when the connection closes', async () => {
    await using server = await startTestServer({ natsUrl: fixture.nats.url })
    const client = await connectClient(server.hubUrl())
    const watches = Array.from({ length: 64 }, (_, i) => watch(client, `free.t${i}`))
    await vi.waitFor(async () => expect(await watchSubscriptions(server)).toHaveLength(64), WAIT)

    watches[0]!.subscription.dispose()
    await vi.waitFor(async () => expect(await watchSubscriptions(server)).not.toContain('im.default.watch.free.t0'), WAIT)
    const replacement = watch(client, 'free.replacement')
    await vi.waitFor(async () => expect(await watchSubscriptions(server)).toContain('im.default.watch.free.replacement'), WAIT)
    await fixture.service.publish('im.default.watch.free.replacement', 'arrived')
    await vi.waitFor(() => expect(replacement.items).toEqual(['arrived']), WAIT)
    // The freed slot was taken again: the connection is back at its bound.
    expect(await withTimeout(watch(client, 'free.again').ended, 5000, 'the refusal')).toBe(REFUSED)

    await client.stop()
    await vi.waitFor(async () => expect(await watchSubscriptions(server)).toEqual([]), WAIT)
    expect(await metrics(server)).toMatchObject({ watches_open: 0, watch_subscriptions: 0 })
  })

  it('serves 50 watches of one topic from several connections with one NATS subscription', async () => {
    await using server = await startTestServer({ natsUrl: fixture.nats.url })
    const clients = await Promise.all(Array.from({ length: 5 }, () => connectClient(server.hubUrl())))
    try {
      const watches = clients.flatMap((client) => Array.from({ length: 10 }, () => watch(client, 'shared.prices')))
      await vi.waitFor(async () => expect((await metrics(server)).watches_open).toBe(50), WAIT)
      await vi.waitFor(async () => expect(await watchSubscriptions(server)).toEqual(['im.default.watch.shared.prices']), WAIT)
      expect((await metrics(server)).watch_subscriptions).toBe(1)

      await fixture.service.publish('im.default.watch.shared.prices', { eur: 1.08 })
      await vi.waitFor(() => expect(watches.filter((w) => w.items.length === 1)).toHaveLength(50), WAIT)
      expect(watches.every((w) => JSON.stringify(w.items) === '[{"eur":1.08}]')).toBe(true)

      // Four connections leave: the subscription stays for the last one's watches.
      for (const client of clients.slice(1)) await client.stop()
      await vi.waitFor(async () => expect((await metrics(server)).watches_open).toBe(10), WAIT)
      expect(await watchSubscriptions(server)).toEqual(['im.default.watch.shared.prices'])
      await clients[0]!.stop()
      await vi.waitFor(async () => expect(await watchSubscriptions(server)).toEqual([]), WAIT)
    } finally {
      await Promise.all(clients.map((client) => client.stop()))
    }
  })

  it('ends a watch of hub code with its connection, whatever signal the hub passed', async () => {
    await using server = await startTestServer({ natsUrl: fixture.nats.url, hubs: [DefaultHub, RelayHub] })
    const client = await connectClient(server.hubUrl('/hubs/relay'))
    const watches = Array.from({ length: 3 }, (_, i) => watch(client, `r${i}`, 'relay'))
    await vi.waitFor(async () => expect(await watchSubscriptions(server, 'relay.')).toHaveLength(3), WAIT)
    await fixture.service.publish('relay.r0', 'relayed')
    await vi.waitFor(() => expect(watches[0]!.items).toEqual(['relayed']), WAIT)
    // Cancelling one stream ends its watch although nothing was published since.
    watches[1]!.subscription.dispose()
    await vi.waitFor(async () => expect((await watchSubscriptions(server, 'relay.')).sort()).toEqual(['relay.r0', 'relay.r2']), WAIT)
    await client.stop()
    await vi.waitFor(async () => expect(await watchSubscriptions(server, 'relay.')).toEqual([]), WAIT)
    expect(await metrics(server)).toMatchObject({ watches_open: 0, watch_subscriptions: 0 })
  })

  it('holds a bounded watch flood to 64 watches per connection and keeps nothing once the flooders leave', async () => {
    await using server = await startTestServer({ natsUrl: fixture.nats.url })
    // The hub's own subscriptions (send, groups, deliver...), once the server lists the node's connection.
    const baseline = await vi.waitFor(async () => {
      const subjects = await nodeSubscriptions(server)
      expect(subjects.length).toBeGreaterThan(0)
      return subjects.length
    }, WAIT)
    const flooders = await Promise.all(Array.from({ length: 10 }, () => connectClient(server.hubUrl())))
    try {
      // 100 a connection fits the invocation burst: only the watch bound refuses.
      const watches = flooders.flatMap((client, c) => Array.from({ length: 100 }, (_, i) => watch(client, `flood.c${c}.t${i}`)))
      await vi.waitFor(async () => expect((await metrics(server)).watches_refused_connection_limit_total).toBe(360), WAIT)
      expect(watches.filter((w) => w.error === REFUSED)).toHaveLength(360)
      expect(watches.filter((w) => w.error !== undefined && w.error !== REFUSED)).toEqual([])
      await vi.waitFor(async () => expect(await watchSubscriptions(server)).toHaveLength(640), WAIT)
      expect(await metrics(server)).toMatchObject({ watches_open: 640, watch_subscriptions: 640 })
    } finally {
      await Promise.all(flooders.map((client) => client.stop()))
    }
    await vi.waitFor(async () => expect((await nodeSubscriptions(server)).length).toBe(baseline), WAIT)
    expect(await metrics(server)).toMatchObject({ watches_open: 0, watch_subscriptions: 0 })
  })
})
