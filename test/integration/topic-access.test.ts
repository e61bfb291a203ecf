/**
 * Topic access on DefaultHub as users meet it: official clients with JWTs watch and publish
 * topics on a node with a real nats-server; a service publishes what is watched; a fake authorizer
 * service answers `im.default.authorize` over NATS. Refusals are read as the client sees them
 * (Completion error texts) and as operators see them (/metrics).
 */
import * as signalR from '@microsoft/signalr'
import type { Msg, Subscription } from '@nats-io/transport-node'
import { beforeAll, describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import type { ImConfigInput } from '../../src/config/config.js'
import { createConsoleLogger } from '../../src/logger.js'
import type { Logger } from '../../src/logger.js'
import { connectClient, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'
import { natsFixture } from '../support/nats-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const REFUSED = (method: string) => `An unexpected error occurred invoking '${method}' on the server. HubException: `
const fixture = natsFixture()

function node(config: ImConfigInput, logger?: Logger): Promise<TestServer> {
  return fixture.node({ hubs: [DefaultHub], config, ...(logger ? { logger } : {}) })
}

async function client(server: TestServer, userId?: string): Promise<TestClient> {
  return fixture.hold(await connectClient(server.hubUrl(), userId ? { accessToken: await tokenFor(userId) } : {}))
}

/** A watch as a frontend holds it: items as they come, and how it ended, if it did. */
class Watch {
  readonly items: unknown[] = []
  error: string | undefined
  completed = false
  readonly subscription: signalR.ISubscription<unknown>

  constructor(c: TestClient, topic: string) {
    this.subscription = c.stream('watch', topic).subscribe({
      next: (item) => this.items.push(item),
      complete: () => (this.completed = true),
      error: (error) => (this.error = error.message),
    })
  }

  /** Waits until the stream has ended (refused) and returns its error text. */
  async refusal(): Promise<string | undefined> {
    await withTimeout(until(() => this.error !== undefined || this.completed), 5000, 'the watch to end')
    return this.error
  }
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 10))
}

/**
 * Publishes `marker` on the watched subject until `watch` has it: then the watch's NATS
 * subscription is in place and anything published after it reaches every allowed watcher.
 */
async function started(watch: Watch, subject: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (watch.items.length === 0) {
        await fixture.service.publish(subject, { marker: true })
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })(),
    5000,
    `the watch of ${subject} to start`,
  )
}

async function metric(server: TestServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  return Number(new RegExp(`^im_${name}_total (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
}

describe('the default rules with a JWT key', () => {
  let server: TestServer
  const lines: string[] = []
  beforeAll(async () => {
    server = await node({ jwt: { secret: TEST_JWT_SECRET } }, createConsoleLogger({ level: 'warn', write: (line) => lines.push(line) }))
  })

  it('start without a warning about open topics', () => {
    expect(lines.filter((line) => line.includes('topics are open'))).toEqual([])
  })

  it("keeps user.alice.inbox to alice: anonymous and bob are refused and receive nothing of alice's message", async () => {
    const [alice, bob, anonymous] = await Promise.all([client(server, 'alice'), client(server, 'bob'), client(server)])
    const hers = new Watch(alice, 'user.alice.inbox')
    const bobs = new Watch(bob, 'user.alice.inbox')
    const anonymouss = new Watch(anonymous, 'user.alice.inbox')
    await started(hers, 'im.default.watch.user.alice.inbox')
    await fixture.service.publish('im.default.watch.user.alice.inbox', { text: 'for alice only' })
    await withTimeout(until(() => hers.items.length >= 2), 5000, "alice's message")
    expect(hers.items.at(-1)).toEqual({ text: 'for alice only' })
    // Without topic rules both got alice's messages here.
    expect({ bob: bobs.items, anonymous: anonymouss.items }).toEqual({ bob: [], anonymous: [] })
    expect(await bobs.refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'user.alice.inbox': only user alice may watch it.`)
    expect(await anonymouss.refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'user.alice.inbox': only user alice may watch it.`)
    expect(await metric(server, 'topic_watch_refused')).toBeGreaterThanOrEqual(2)
    hers.subscription.dispose()
  })

  it('lets anyone watch public.>, and refuses every other watch', async () => {
    const [anonymous, bob] = await Promise.all([client(server), client(server, 'bob')])
    const news = new Watch(anonymous, 'public.news')
    await started(news, 'im.default.watch.public.news')
    news.subscription.dispose()
    const before = await metric(server, 'topic_watch_refused')
    expect(await new Watch(bob, 'orders.all').refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'orders.all': nobody may watch it.`)
    expect(await new Watch(bob, 'user').refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'user': nobody may watch it.`)
    expect(await metric(server, 'topic_watch_refused')).toBe(before + 2)
  })

  it('refuses anonymous publish with the reason, before anything reaches NATS, and lets users publish', async () => {
    const listener = await fixture.service.listen('im.default.receive.>')
    const [anonymous, bob] = await Promise.all([client(server), client(server, 'bob')])
    const before = await metric(server, 'topic_publish_refused')
    await expect(anonymous.invoke('publish', 'orders.created', 1)).rejects.toThrow(
      `${REFUSED('publish')}Not allowed to publish to 'orders.created': only authenticated users may publish to it.`,
    )
    const items = new signalR.Subject<number>()
    const streamed = anonymous.invoke('publishStream', 'orders.stream', items)
    items.next(1)
    items.complete()
    await expect(streamed).rejects.toThrow(`${REFUSED('publishStream')}Not allowed to publish to 'orders.stream': only authenticated users may publish to it.`)
    await bob.invoke('publish', 'orders.created', 2)
    // The first message NATS saw is bob's: the refused ones never got there.
    expect((await listener.next()).json).toMatchObject({ topic: 'orders.created', userId: 'bob', args: [2] })
    expect(await metric(server, 'topic_publish_refused')).toBe(before + 2)
  })
})

describe('configured rules', () => {
  it('apply roles and owner lists, first match wins, and refuse what no rule covers', async () => {
    const server = await node({
      jwt: { secret: TEST_JWT_SECRET },
      topics: {
        rules: [
          { pattern: 'tenant.{userId}.>', watch: ['owner', { roles: ['support'] }], publish: 'owner' },
          { pattern: 'ops.*', watch: { roles: ['admin'] }, publish: 'nobody' },
        ],
      },
    })
    const support = fixture.hold(await connectClient(server.hubUrl(), { accessToken: await tokenFor('sam', { claims: { roles: ['support'] } }) }))
    const eve = await client(server, 'eve')
    const supported = new Watch(support, 'tenant.acme.events')
    await started(supported, 'im.default.watch.tenant.acme.events')
    supported.subscription.dispose()
    expect(await new Watch(eve, 'tenant.acme.events').refusal()).toBe(
      `${REFUSED('watch')}Not allowed to watch 'tenant.acme.events': only user acme or users with role support may watch it.`,
    )
    expect(await new Watch(eve, 'ops.deploys').refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'ops.deploys': only users with role admin may watch it.`)
    await expect(eve.invoke('publish', 'public.chat', 'hi')).rejects.toThrow(`${REFUSED('publish')}Not allowed to publish to 'public.chat': no topic rule covers it.`)
  })

  it('without JWT and rules stays open, as local development expects, and says so once at start-up', async () => {
    const lines: string[] = []
    const server = await node({}, createConsoleLogger({ level: 'warn', write: (line) => lines.push(line) }))
    expect(lines.filter((line) => line.includes('topics are open'))).toHaveLength(1)
    const anonymous = await client(server)
    const watch = new Watch(anonymous, 'user.alice.inbox')
    await started(watch, 'im.default.watch.user.alice.inbox')
    watch.subscription.dispose()
    await expect(anonymous.invoke('publish', 'anything.goes', 1)).resolves.toBeNull()
  })
})

describe('the authorizer service', () => {
  let server: TestServer
  let authorize: Subscription
  const asked: unknown[] = []

  beforeAll(async () => {
    server = await node({
      jwt: { secret: TEST_JWT_SECRET },
      topics: {
        rules: [
          { pattern: 'public.>', watch: 'anyone', publish: 'authenticated' },
          { pattern: 'orders.>', watch: 'authorizer', publish: 'authorizer' },
        ],
        authorizer: { enabled: true, timeoutMs: 200, cacheTtlMs: 60_000 },
      },
    })
    // The fake authorizer: allows orders.open.*, refuses with a reason, stays silent on orders.slow.
    authorize = fixture.service.nc.subscribe('im.default.authorize', {
      callback: (_error: Error | null, msg: Msg) => {
        const request = msg.json<{ action: string; topic: string; userId: string | null }>()
        asked.push(request)
        if (request.topic === 'orders.slow') return
        const allow = request.topic.startsWith('orders.open.') || request.topic === 'inventory.count'
        msg.respond(JSON.stringify(allow ? { allow: true } : { allow: false, reason: `${request.userId ?? 'anonymous'} has no access to ${request.topic}` }))
      },
    })
    await fixture.service.nc.flush()
  })

  it('is asked with the action, topic, user, claims and connection, and its allow is kept (the second call does not ask)', async () => {
    const dora = await client(server, 'dora')
    asked.length = 0
    await expect(dora.invoke('publish', 'orders.open.1', 'x')).resolves.toBeNull()
    await expect(dora.invoke('publish', 'orders.open.1', 'y')).resolves.toBeNull()
    expect(asked).toEqual([expect.objectContaining({ action: 'publish', topic: 'orders.open.1', userId: 'dora', connectionId: dora.connectionId })])
    expect((asked[0] as { claims: Record<string, unknown> }).claims).toMatchObject({ sub: 'dora' })
    expect(await metric(server, 'topic_authorizer_requests')).toBe(1)
    expect(await metric(server, 'topic_authorizer_cache_hits')).toBe(1)
  })

  it('refuses with its reason, and decides topics no rule matches', async () => {
    const dora = await client(server, 'dora')
    expect(await new Watch(dora, 'orders.closed.7').refusal()).toBe(`${REFUSED('watch')}Not allowed to watch 'orders.closed.7': dora has no access to orders.closed.7.`)
    const counted = new Watch(dora, 'inventory.count')
    await started(counted, 'im.default.watch.inventory.count')
    counted.subscription.dispose()
    // Rules still decide what they match without asking.
    asked.length = 0
    await expect((await client(server)).invoke('publish', 'public.chat', 1)).rejects.toThrow(
      "Not allowed to publish to 'public.chat': only authenticated users may publish to it.",
    )
    expect(asked).toEqual([])
  })

  it('refuses when it does not answer in time, counts it, and asks again next time', async () => {
    const dora = await client(server, 'dora')
    const before = await metric(server, 'topic_authorizer_timeouts')
    await expect(dora.invoke('publish', 'orders.slow', 1)).rejects.toThrow("Not allowed to publish to 'orders.slow': the authorizer did not answer within 200 ms.")
    await expect(dora.invoke('publish', 'orders.slow', 1)).rejects.toThrow('the authorizer did not answer within 200 ms.')
    expect(await metric(server, 'topic_authorizer_timeouts')).toBe(before + 2)
  })

  it('refuses when no authorizer listens, with its own text', async () => {
    authorize.unsubscribe()
    await fixture.service.nc.flush()
    const dora = await client(server, 'dora')
    await expect(dora.invoke('publish', 'orders.open.2', 1)).rejects.toThrow(
      "Not allowed to publish to 'orders.open.2': no authorizer service is listening on im.default.authorize.",
    )
    expect(await metric(server, 'topic_authorizer_no_responders')).toBe(1)
    // What it allowed before is still known for the rest of its time to live.
    await expect(dora.invoke('publish', 'orders.open.1', 'z')).resolves.toBeNull()
    expect(await metric(server, 'topic_publish_refused')).toBeGreaterThanOrEqual(4)
  })
})
