/**
 * The hub hears of a connection's end as ASP.NET Core's HubConnectionHandler tells it: after its
 * onConnected has finished, however slow, and not at all when onConnected refused the connection;
 * the lifecycle events follow the same order.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ConnectionEventsHub } from '../fixtures/hubs/connection-events-hub.js'
import { buildClient, closed, connectClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

let server: TestServer
/** Everything the hub and the node reported, in arrival order: `<user> <event>`. */
const seen: string[] = []
const url = (): string => server.hubUrl('/signalr-hubs/events')
const WAIT = { timeout: 5000, interval: 10 } as const

beforeAll(async () => {
  server = await startTestServer({ hubs: [ConnectionEventsHub], config: { jwt: { secret: TEST_JWT_SECRET } } })
  const decoder = new TextDecoder()
  server.bus.subscribe('svc.events', (message) => {
    const { user, event, aborted } = JSON.parse(decoder.decode(message.data)) as { user: string; event: string; aborted?: boolean }
    seen.push(`${user} ${event}${aborted ? ' (aborted)' : ''}`)
  })
  for (const kind of ['connected', 'disconnected']) {
    server.bus.subscribe(`im.events.${kind}`, (message) => {
      seen.push(`${(JSON.parse(decoder.decode(message.data)) as { userId: string }).userId} im.events.${kind}`)
    })
  }
  await server.bus.ready()
})
afterAll(() => server?.close())

const of = (user: string): string[] => seen.filter((line) => line.startsWith(`${user} `))

describe('connection events', () => {
  it('a client that leaves while onConnected still runs: onDisconnected and im.<hub>.disconnected come after onConnected finished', async () => {
    const client = await connectClient(url(), { accessToken: await tokenFor('slow-sam') })
    await vi.waitFor(() => expect(of('slow-sam')).toContain('slow-sam connecting'), WAIT)
    await client.stop()
    await vi.waitFor(() => expect(of('slow-sam')).toContain('slow-sam disconnected'), WAIT)
    expect(of('slow-sam')).toEqual([
      'slow-sam connecting',
      // The connection had ended by then: the hub could tell from this.signal.
      'slow-sam connected (aborted)',
      'slow-sam im.events.connected',
      'slow-sam im.events.disconnected',
      'slow-sam disconnected',
    ])
  })

  it('a connection onConnected refused gets neither onDisconnected nor im.<hub>.disconnected', async () => {
    const refused = buildClient(url(), { accessToken: await tokenFor('refused-rex') })
    const end = closed(refused)
    const error = (await refused.start().then(() => undefined, (e: Error) => e)) ?? (await end)
    expect(error?.message).toBe('Server returned an error on close: Connection closed with an error. HubException: refused by the test')
    // A connection after it, through to its end: what the refused one would have reported came before.
    const after = await connectClient(url(), { accessToken: await tokenFor('quick-quinn') })
    await after.stop()
    await vi.waitFor(() => expect(of('quick-quinn')).toContain('quick-quinn disconnected'), WAIT)
    expect(of('refused-rex')).toEqual([])
  })
})
