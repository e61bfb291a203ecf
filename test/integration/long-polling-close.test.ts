/**
 * A server-initiated close reaches a long-polling client whether or not its poll is waiting at
 * that moment: the Close message (its error text, no reconnect) waits for the client's next poll,
 * as TransportProtocols.md and the official client expect, instead of the client finding its
 * connection gone (404) and reconnecting as if the network had failed.
 */
import * as signalR from '@microsoft/signalr'
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { closed, Inbox } from '../support/clients.js'
import { startHeldLongPolling } from '../support/held-polls.js'
import type { HeldLongPollingClient } from '../support/held-polls.js'
import { natsFixture } from '../support/nats-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({
  nodes: [{ hubs: [DefaultHub], config: { jwt: { secret: TEST_JWT_SECRET }, hubs: { longPollTimeoutMs: 2000, longPollIdleTimeoutMs: 5000 } } }],
})

/** A long-polling client of `userId` with automatic reconnect on, stopped after the test. */
async function longPollingClient(userId: string): Promise<HeldLongPollingClient> {
  const started = await startHeldLongPolling(fixture.server.hubUrl(), () => tokenFor(userId))
  fixture.hold({ [Symbol.asyncDispose]: () => started.client.stop() })
  return started
}

describe('a server-initiated close over long polling', () => {
  it('reaches a client whose next poll comes only after the close, with its reason and no reconnect', async () => {
    const { client, polls, reconnects } = await longPollingClient('lp-between-polls')
    const held = polls.holdNext()
    // A message answers the waiting poll; the client's next poll is then held on its side.
    const inbox = new Inbox(client, 'note')
    await fixture.service.publish('im.default.send.client', { connectionId: client.connectionId, method: 'note', args: ['before'] })
    expect(await inbox.next()).toEqual(['before'])
    await held.sent
    const disconnected = await fixture.service.listen('im.default.disconnected')
    const end = closed(client)
    await fixture.service.publish('im.default.disconnect', { connectionId: client.connectionId, reason: 'banned for spam' })
    // The server has ended the connection while no poll of the client was there to take the Close.
    await disconnected.nextFor(client.connectionId)
    held.release()
    expect((await end)?.message).toBe('Server returned an error on close: banned for spam')
    expect(reconnects()).toBe(0)
    expect(client.state).toBe(signalR.HubConnectionState.Disconnected)
  })

  it('reaches a client whose poll is waiting, with its reason and no reconnect', async () => {
    const { client, reconnects } = await longPollingClient('lp-poll-waiting')
    const end = closed(client)
    await fixture.service.publish('im.default.disconnect', { connectionId: client.connectionId, reason: 'logged out everywhere' })
    expect((await end)?.message).toBe('Server returned an error on close: logged out everywhere')
    expect(reconnects()).toBe(0)
    expect(client.state).toBe(signalR.HubConnectionState.Disconnected)
  })
})
