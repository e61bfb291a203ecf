/**
 * Server-Sent Events and long polling beside WebSockets: a client forced to each transport gets
 * every DefaultHub row, and the HTTP surface answers with ASP.NET Core's status codes.
 */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { natsFixture } from '../support/nats-fixture.js'
import { closed, connectClient, Inbox, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({
  nodes: [
    {
      hubs: [DefaultHub, EchoHub],
      // Open topic rules: anonymous clients publish here (topic-access.test.ts covers the rules).
      config: { jwt: { secret: TEST_JWT_SECRET }, hubs: { longPollTimeoutMs: 400, longPollIdleTimeoutMs: 600 }, topics: { rules: [{ pattern: '>', watch: 'anyone', publish: 'anyone' }] } },
    },
  ],
})

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType

describe.each([
  ['WebSockets', WebSockets],
  ['ServerSentEvents', ServerSentEvents],
  ['LongPolling', LongPolling],
])('a client forced to %s', (name, transport) => {
  let anonymous: TestClient
  let alice: TestClient
  beforeAll(async () => {
    anonymous = await connectClient(fixture.server.hubUrl(), { transport })
    alice = await connectClient(fixture.server.hubUrl(), { transport, accessToken: await tokenFor(`alice-${name}`) })
  })
  afterAll(async () => {
    await anonymous?.stop()
    await alice?.stop()
  })

  it('uses that transport and round-trips unicode and a 20 KB argument', async () => {
    const echo = await connectClient(fixture.server.hubUrl('/hubs/echo'), { transport })
    expect(await echo.invoke('whoAmI')).toMatchObject({ transport: name })
    await expect(echo.invoke('echo', '你好，世界！')).resolves.toBe('你好，世界！')
    const big = 'x'.repeat(20 * 1024)
    await expect(echo.invoke('echo', big)).resolves.toBe(big)
    const closing = closed(echo)
    await echo.stop()
    expect(await closing).toBeUndefined()
  })

  it('gets broadcasts, connection messages, user messages and group messages', async () => {
    const inbox = new Inbox(alice, 'row')
    await fixture.service.publish('im.default.send', { method: 'row', args: ['all'] })
    expect(await inbox.next()).toEqual(['all'])
    await fixture.service.publish('im.default.send.client', { connectionId: alice.connectionId, method: 'row', data: 'client' })
    expect(await inbox.next()).toEqual(['client'])
    await fixture.service.publish('im.default.send.user', { userId: `alice-${name}`, method: 'row', args: ['user'] })
    expect(await inbox.next()).toEqual(['user'])
    await fixture.service.publish('im.default.groups.add', { group: `g-${name}`, connectionId: alice.connectionId })
    await fixture.service.publish('im.default.send.group', { group: `g-${name}`, method: 'row', args: ['group'] })
    expect(await inbox.next()).toEqual(['group'])
  })

  it('publishes to the services and gets lifecycle events', async () => {
    const listener = await fixture.service.listen(`im.default.receive.via.${name}`)
    await anonymous.invoke('publish', `via.${name}`, 1, 'two')
    expect((await listener.next()).json).toMatchObject({ args: [1, 'two'], connectionId: anonymous.connectionId, userId: null })
    const connected = await fixture.service.listen('im.default.connected')
    const c = await connectClient(fixture.server.hubUrl(), { transport })
    expect((await connected.nextFor(c.connectionId)).json).toMatchObject({ connectionId: c.connectionId, transport: name })
    await c.stop()
  })

  it('gets the bad-input errors', async () => {
    await expect(anonymous.invoke('nope')).rejects.toThrow("Failed to invoke 'nope' due to an error on the server. HubException: Method does not exist.")
    await expect(anonymous.invoke('publish', 'a b')).rejects.toThrow("HubException: Invalid topic 'a b'")
  })
})

describe('fallback', () => {
  class BrokenWebSocket {
    constructor() {
      throw new Error('WebSockets are blocked here')
    }
  }
  class BrokenEventSource {
    constructor() {
      throw new Error('EventSource is blocked here')
    }
  }

  it('goes from a refused WebSocket to Server-Sent Events', async () => {
    const c = await connectClient(fixture.server.hubUrl('/hubs/echo'), { transport: WebSockets | ServerSentEvents | LongPolling, WebSocket: BrokenWebSocket })
    expect(await c.invoke('whoAmI')).toMatchObject({ transport: 'ServerSentEvents' })
    await c.stop()
  })

  it('and to long polling when Server-Sent Events fail too', async () => {
    const c = await connectClient(fixture.server.hubUrl('/hubs/echo'), {
      transport: WebSockets | ServerSentEvents | LongPolling,
      WebSocket: BrokenWebSocket,
      EventSource: BrokenEventSource,
    })
    expect(await c.invoke('whoAmI')).toMatchObject({ transport: 'LongPolling' })
    await c.stop()
  })
})

describe('the HTTP surface', () => {
  const negotiate = async (): Promise<string> => {
    const body = (await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    return body.connectionToken
  }
  const at = (token: string) => `${fixture.server.hubUrl()}?id=${token}`
  const handshake = (token: string) => fetch(at(token), { method: 'POST', body: '{"protocol":"json","version":1}\u001e', headers: { 'Content-Type': 'text/plain' } })

  it('answers a missing id with 400, an unknown one with 404, other methods with 405', async () => {
    expect([(await fetch(fixture.server.hubUrl())).status, await (await fetch(fixture.server.hubUrl())).text()]).toEqual([400, 'Connection ID required'])
    const unknown = await fetch(at('nope'))
    expect([unknown.status, await unknown.text()]).toEqual([404, 'No Connection with that ID'])
    expect((await fetch(at('nope'), { method: 'PUT' })).status).toBe(405)
  })

  it('long polling: the first poll opens at once, data comes on the next, an idle poll ends empty', async () => {
    const token = await negotiate()
    const first = await fetch(at(token))
    expect([first.status, (await first.arrayBuffer()).byteLength]).toEqual([200, 0])
    expect((await handshake(token)).status).toBe(200)
    const reply = await fetch(at(token))
    expect([reply.status, await reply.text()]).toEqual([200, '{}\u001e'])
    const idle = await withTimeout(fetch(at(token)), 5000, 'the idle poll')
    expect([idle.status, await idle.text()]).toEqual([200, ''])
    expect((await fetch(at(token), { method: 'DELETE' })).status).toBe(202)
  })

  it('long polling: a newer poll ends the older with 204; DELETE ends the waiting poll with 204 and the connection', async () => {
    const token = await negotiate()
    await fetch(at(token))
    await handshake(token)
    await (await fetch(at(token))).text()
    const older = fetch(at(token))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const newer = fetch(at(token))
    expect((await older).status).toBe(204)
    const deleted = await fetch(at(token), { method: 'DELETE' })
    expect(deleted.status).toBe(202)
    expect((await newer).status).toBe(204)
    expect((await fetch(at(token))).status).toBe(404)
  })

  it('long polling: a client that stops polling is disconnected after the long-poll idle timeout', async () => {
    const disconnected = await fixture.service.listen('im.default.disconnected')
    const body = (await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionId: string; connectionToken: string }
    const token = body.connectionToken
    await fetch(at(token))
    await handshake(token)
    await (await fetch(at(token))).text()
    // Other tests' connections end meanwhile too: wait for this connection's event.
    let event: { transport: string; connectionId: string }
    do event = (await disconnected.next(5000)).json as { transport: string; connectionId: string }
    while (event.connectionId !== body.connectionId)
    expect(event.transport).toBe('LongPolling')
    expect((await fetch(at(token))).status).toBe(404)
  })

  it('server-sent events: the stream opens with a comment, POST sends, DELETE is refused', async () => {
    const token = await negotiate()
    const controller = new AbortController()
    const stream = await fetch(at(token), { headers: { Accept: 'text/event-stream' }, signal: controller.signal })
    expect(stream.headers.get('content-type')).toBe('text/event-stream')
    const reader = stream.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const readUntil = async (needle: string): Promise<void> => {
      while (!text.includes(needle)) text += decoder.decode((await reader.read()).value)
    }
    await withTimeout(readUntil(':\r\n'), 5000, 'the opening comment')
    expect((await handshake(token)).status).toBe(200)
    await withTimeout(readUntil('data: {}\u001e\r\n\r\n'), 5000, 'the handshake event')
    const second = await fetch(at(token), { headers: { Accept: 'text/event-stream' } })
    expect(second.status).toBe(409)
    const asPoll = await fetch(at(token))
    expect([asPoll.status, await asPoll.text()]).toEqual([400, 'Cannot change transports mid-connection'])
    const del = await fetch(at(token), { method: 'DELETE' })
    expect([del.status, await del.text()]).toEqual([400, 'Cannot terminate this connection using the DELETE endpoint.'])
    controller.abort()
  })

  it('a WebSocket connection refuses POST with 405', async () => {
    const c = await connectClient(fixture.server.hubUrl())
    const body = (await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    const ws = await import('ws')
    const socket = new ws.WebSocket(`${fixture.server.hubUrl().replace('http', 'ws')}?id=${body.connectionToken}`)
    await new Promise((resolve) => socket.once('open', resolve))
    const post = await fetch(at(body.connectionToken), { method: 'POST', body: 'x' })
    expect([post.status, await post.text()]).toEqual([405, 'POST requests are not allowed for WebSocket connections.'])
    socket.close()
    await c.stop()
  })

  it("refuses another user's token on every request with 403", async () => {
    const aliceToken = await tokenFor('alice')
    const body = (await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${aliceToken}` } })).json()) as { connectionToken: string }
    const eve = { Authorization: `Bearer ${await tokenFor('eve')}` }
    expect((await fetch(at(body.connectionToken), { headers: eve })).status).toBe(403)
    expect((await fetch(at(body.connectionToken), { method: 'POST', body: 'x', headers: eve })).status).toBe(403)
    expect((await fetch(at(body.connectionToken))).status).toBe(403)
  })
})
