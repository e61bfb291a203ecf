/**
 * A node killed with SIGKILL says no goodbye: its users must not stay online. The surviving node
 * notices the silence (three lease intervals without a heartbeat), publishes `offline` for the
 * users only the dead node held, keeps those another node still holds online, and stops waiting
 * for the dead node in presence answers. The killed node runs as its own process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ImNode } from '../../bench/chaos/node-process.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import { closed, connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { startTestServer, untilSubscribed } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const LEASE_MS = 250
/** What the documentation promises: about four lease intervals; the bound leaves room for a loaded machine. */
const HEAL_BOUND_MS = 10 * LEASE_MS + 3000

let nats: NatsServer
let survivor: TestServer
let doomed: ImNode
let service: TestService
const clients: TestClient[] = []

async function on(url: string, userId: string): Promise<TestClient> {
  const c = await connectClient(url, { accessToken: await tokenFor(userId) })
  clients.push(c)
  return c
}

beforeAll(async () => {
  nats = await startNatsServer({ jetstream: true })
  survivor = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { jwt: { secret: TEST_JWT_SECRET }, presence: { leaseMs: LEASE_MS }, nodeId: 'survivor' } })
  await untilSubscribed(survivor)
  doomed = await ImNode.start({ natsUrl: nats.url, nodeId: 'doomed', env: { IM_JWT_SECRET: TEST_JWT_SECRET, IM_PRESENCE_LEASE_MS: String(LEASE_MS) } })
  service = await TestService.connect(nats.url)
}, 30_000)

afterAll(async () => {
  await Promise.all(clients.map((c) => c.stop()))
  await service?.[Symbol.asyncDispose]()
  await doomed?.kill9()
  await survivor?.close()
  await nats?.stop()
})

describe('presence after a node is killed', () => {
  it('publishes offline for the users only the dead node held, within the stated bound, and nothing for the others', async () => {
    const online = await service.listen('im.default.user.online')
    const offline = await service.listen('im.default.user.offline')
    await on(doomed.hubUrl(), 'only-there')
    await on(doomed.hubUrl(), 'on-both')
    await on(survivor.hubUrl(), 'on-both')
    const cameOnline = new Set<string>()
    while (cameOnline.size < 2) cameOnline.add(((await online.next()).json as { userId: string }).userId)
    expect(cameOnline).toEqual(new Set(['only-there', 'on-both']))

    const killedAt = Date.now()
    await doomed.kill9()
    const gone = await offline.next(HEAL_BOUND_MS)
    expect(gone.json).toMatchObject({ userId: 'only-there' })
    expect(Date.now() - killedAt).toBeLessThan(HEAL_BOUND_MS)

    // The survivor no longer waits for the dead node, and counts only what it holds.
    const answer = (await service.nc.request('im.default.presence.users', JSON.stringify({ userIds: ['only-there', 'on-both'] }), { timeout: 5000 })).json()
    expect(answer).toEqual({ users: [{ userId: 'only-there', online: false, connections: 0 }, { userId: 'on-both', online: true, connections: 1 }] })
    // on-both is still held by the survivor: its last connection closing is the one offline for it.
    await clients[2]!.stop()
    expect((await offline.next()).json).toMatchObject({ userId: 'on-both' })
    expect(offline.received.map((m) => (m.json as { userId: string }).userId)).toEqual(['only-there', 'on-both'])
  })
})

describe('presence when a node stops gracefully', () => {
  it('publishes offline for its users as it stops, without waiting for the others to count it gone', async () => {
    // Heartbeats so rare that only the stopping node itself can explain a prompt offline event.
    const config = { jwt: { secret: TEST_JWT_SECRET }, presence: { leaseMs: 60_000 } }
    const staying = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { ...config, nodeId: 'staying' } })
    const leaving = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { ...config, nodeId: 'leaving' } })
    try {
      await Promise.all([untilSubscribed(staying), untilSubscribed(leaving)])
      const online = await service.listen('im.default.user.online')
      const offline = await service.listen('im.default.user.offline')
      await on(leaving.hubUrl(), 'pat')
      expect((await online.next()).json).toMatchObject({ userId: 'pat' })
      await leaving.close()
      expect((await offline.next(3000)).json).toMatchObject({ userId: 'pat' })
    } finally {
      await Promise.all([staying.close(), leaving.close()])
    }
  })
})

describe('presence on the embedded bus', () => {
  it('closes connections named by a disconnect POSTed to /api/publish', async () => {
    const server = await startTestServer({ config: { jwt: { secret: TEST_JWT_SECRET } } })
    try {
      const client = await on(server.hubUrl(), 'quin')
      const end = closed(client)
      const res = await fetch(`${server.url}/api/publish`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ subject: 'im.default.disconnect', payload: { userId: 'quin', reason: 'maintenance' } }),
      })
      expect(res.status).toBe(202)
      expect((await end)?.message).toBe('Server returned an error on close: maintenance')
    } finally {
      await server.close()
    }
  })
})
