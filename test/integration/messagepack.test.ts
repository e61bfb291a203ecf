/**
 * The MessagePack hub protocol with the official @microsoft/signalr-protocol-msgpack client: binary
 * frames on WebSockets and long polling, refused on Server-Sent Events, and a broadcast to mixed
 * JSON and MessagePack connections serialized once per protocol.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({ nodes: [{ hubs: [DefaultHub, EchoHub], config: { jwt: { secret: TEST_JWT_SECRET } } }] })

describe.each([
  ['WebSockets', signalR.HttpTransportType.WebSockets],
  ['LongPolling', signalR.HttpTransportType.LongPolling],
])('MessagePack over %s', (name, transport) => {
  it('round-trips binary data, dates and nested objects', async () => {
    await using c = await connectClient(fixture.server.hubUrl('/hubs/echo'), { transport, protocol: new MessagePackHubProtocol() })
    expect(await c.invoke('whoAmI')).toMatchObject({ transport: name })
    const complex = { String: 'hello world', IntArray: [1, 2, 3, 255], ByteArray: new Uint8Array([104, 101, 108, 108, 111]), DateTime: new Date(Date.UTC(2002, 3, 1, 10, 20, 15)) }
    expect(await c.invoke('echo', complex)).toEqual(complex)
  })

  it('streams items from the server', async () => {
    await using c = await connectClient(fixture.server.hubUrl('/hubs/echo'), { transport, protocol: new MessagePackHubProtocol() })
    const items = await withTimeout(
      new Promise<unknown[]>((resolve, reject) => {
        const seen: unknown[] = []
        c.stream('counter', 3).subscribe({ next: (item) => seen.push(item), complete: () => resolve(seen), error: reject })
      }),
      5000,
      'the stream',
    )
    expect(items).toEqual([0, 1, 2])
  })

  it('gets DefaultHub deliveries and publishes to the services', async () => {
    await using c = await connectClient(fixture.server.hubUrl(), { transport, protocol: new MessagePackHubProtocol(), accessToken: await tokenFor(`mp-${name}`) })
    const inbox = new Inbox(c, 'tick')
    await fixture.service.publish('im.default.send.user', { userId: `mp-${name}`, method: 'tick', args: [1, 'two', { three: 3 }] })
    expect(await inbox.next()).toEqual([1, 'two', { three: 3 }])
    const listener = await fixture.service.listen(`im.default.receive.mp.${name}`)
    await c.invoke('publish', `mp.${name}`, { n: 7 })
    expect((await listener.next()).json).toMatchObject({ args: [{ n: 7 }], userId: `mp-${name}` })
  })
})

describe('mixed protocols', () => {
  it('a broadcast reaches JSON and MessagePack connections alike', async () => {
    await using json = await connectClient(fixture.server.hubUrl())
    await using msgpack = await connectClient(fixture.server.hubUrl(), { protocol: new MessagePackHubProtocol() })
    await using msgpack2 = await connectClient(fixture.server.hubUrl(), { protocol: new MessagePackHubProtocol() })
    const inboxes = [new Inbox(json, 'mixed'), new Inbox(msgpack, 'mixed'), new Inbox(msgpack2, 'mixed')]
    await fixture.service.publish('im.default.send', { method: 'mixed', args: ['same', 42] })
    for (const inbox of inboxes) expect(await inbox.next()).toEqual(['same', 42])
  })

  it('refuses MessagePack on Server-Sent Events at the handshake', async () => {
    const body = (await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    const at = `${fixture.server.hubUrl()}?id=${body.connectionToken}`
    const controller = new AbortController()
    const stream = await fetch(at, { headers: { Accept: 'text/event-stream' }, signal: controller.signal })
    const reader = stream.body!.getReader()
    await fetch(at, { method: 'POST', body: '{"protocol":"messagepack","version":1}\u001e' })
    let text = ''
    await withTimeout(
      (async () => {
        while (!text.includes('\r\n\r\n')) text += new TextDecoder().decode((await reader.read()).value)
      })(),
      5000,
      'the handshake answer',
    )
    expect(text).toContain(`data: {"error":"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."}\u001e`)
    controller.abort()
  })
})
