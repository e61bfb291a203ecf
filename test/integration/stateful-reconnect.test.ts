/**
 * Stateful reconnect (ASP.NET Core 8+): a client built with withStatefulReconnect() that loses its
 * WebSocket comes back on a new one to the same connection, misses no message and gets none twice.
 */
import * as signalR from '@microsoft/signalr'
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { natsFixture } from '../support/nats-fixture.js'
import { numberedWebSocket, withTimeout } from '../support/clients.js'

const fixture = natsFixture({ nodes: [{ hubs: [DefaultHub, EchoHub], config: { hubs: { statefulReconnectWindowMs: 1000 } } }] })

function statefulClient(path = '/signalr-hubs/default'): signalR.HubConnection {
  return new signalR.HubConnectionBuilder()
    .withUrl(fixture.server.hubUrl(path), { transport: signalR.HttpTransportType.WebSockets })
    .withStatefulReconnect()
    .configureLogging(signalR.LogLevel.None)
    .build()
}

/** Cuts the client's TCP connection without a close frame, as a network failure would. */
function cutTheWire(connection: signalR.HubConnection): void {
  const socket = (connection as unknown as { connection: { transport: { _webSocket: { _socket: { destroy(): void } } } } }).connection.transport._webSocket._socket
  socket.destroy()
}

describe('stateful reconnect', () => {
  it('negotiates it when the client asks', async () => {
    const response = await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1&useStatefulReconnect=true`, { method: 'POST' })
    const text = await response.text()
    expect(text.startsWith('{"useStatefulReconnect":true,"negotiateVersion":1,')).toBe(true)
    const plain = await (await fetch(`${fixture.server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).text()
    expect(plain).not.toContain('useStatefulReconnect')
  })

  it('resumes the same connection after a lost WebSocket: every message once, in order', async () => {
    const connection = statefulClient()
    const received: number[] = []
    connection.on('seq', (n: number) => received.push(n))
    let reconnecting = false
    connection.onreconnecting(() => (reconnecting = true))
    await connection.start()
    const id = connection.connectionId
    const disconnected = await fixture.service.listen('im.default.disconnected')

    for (let n = 1; n <= 3; n++) await fixture.service.publish('im.default.send', { method: 'seq', args: [n] })
    await withTimeout((async () => { while (received.length < 3) await new Promise((r) => setTimeout(r, 10)) })(), 5000, 'the first three')

    cutTheWire(connection)
    // These go out while the old socket is dying or gone: the server must buffer and replay them.
    for (let n = 4; n <= 8; n++) await fixture.service.publish('im.default.send', { method: 'seq', args: [n] })
    await withTimeout((async () => { while (received.length < 8) await new Promise((r) => setTimeout(r, 10)) })(), 5000, 'all eight')

    expect(received).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(connection.connectionId).toBe(id)
    expect(connection.state).toBe(signalR.HubConnectionState.Connected)
    expect(reconnecting).toBe(false)
    // The client's own calls work on the resumed connection, and the server never saw it leave.
    await expect(connection.invoke('publish', 'resumed', 1)).resolves.toBeNull()
    await connection.stop()
    const left = (await disconnected.next()).json as { connectionId: string }
    expect(left.connectionId).toBe(id)
  })

  it('delivers the result of a call made just before the wire was cut', async () => {
    const connection = statefulClient('/hubs/echo')
    await connection.start()
    const echo = connection.invoke('echo', 'through the gap')
    cutTheWire(connection)
    await expect(withTimeout(echo, 5000, 'the echo')).resolves.toBe('through the gap')
    await connection.stop()
  })

  it("gives hub code the reconnect's request after a resume, as ASP.NET Core", async () => {
    const connection = new signalR.HubConnectionBuilder()
      .withUrl(fixture.server.hubUrl('/hubs/echo'), { transport: signalR.HttpTransportType.WebSockets, ...{ WebSocket: numberedWebSocket() } })
      .withStatefulReconnect()
      .configureLogging(signalR.LogLevel.None)
      .build()
    await connection.start()
    await expect(connection.invoke('getHeader', 'x-attempt')).resolves.toBe('1')
    cutTheWire(connection)
    await expect(withTimeout(connection.invoke('getHeader', 'x-attempt'), 5000, 'the call after the cut')).resolves.toBe('2')
    await connection.stop()
  })

  it('ends the connection when the client does not come back within the window', async () => {
    const disconnected = await fixture.service.listen('im.default.disconnected')
    const connection = statefulClient()
    // The client's one reconnect attempt will be refused by a constructor that throws.
    await connection.start()
    const id = connection.connectionId
    const internals = (connection as unknown as { connection: { transport: { _webSocketConstructor: unknown } } }).connection.transport
    internals._webSocketConstructor = class {
      constructor() {
        throw new Error('no network')
      }
    }
    const closed = new Promise<Error | undefined>((resolve) => connection.onclose(resolve))
    cutTheWire(connection)
    expect(await withTimeout(closed, 5000, 'the client to give up')).toBeInstanceOf(Error)
    const left = (await disconnected.next(5000)).json as { connectionId: string }
    expect(left.connectionId).toBe(id)
  })
})
