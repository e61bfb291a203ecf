import { createServer } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { connect } from 'node:net'
import type { Duplex } from 'node:stream'
import { expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { ClientWrites } from '../../../src/transports/client-writes.js'
import { webSocketServerOptions, WebSocketTransport } from '../../../src/transports/websocket-transport.js'

interface Pair {
  readonly server: WebSocket
  /** The TCP socket the upgrade came on, as the hub endpoint hands it to the transport. */
  readonly tcp: Duplex
  readonly port: number
  close(): void
}

/** A ws server socket accepted as the hub endpoint accepts them (noServer, our options), and a way to reach it. */
async function listen(): Promise<{ port: number; accepted: Promise<{ server: WebSocket; tcp: Duplex }>; close(): void }> {
  const http = createServer()
  const wss = new WebSocketServer(webSocketServerOptions(1024 * 1024))
  const accepted = new Promise<{ server: WebSocket; tcp: Duplex }>((resolve) =>
    http.once('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (server) => resolve({ server, tcp: socket }))),
  )
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  return { port: (http.address() as AddressInfo).port, accepted, close: () => (wss.close(), http.close(), http.closeAllConnections()) }
}

async function socketPair(): Promise<Pair & { client: WebSocket }> {
  const { port, accepted, close } = await listen()
  const client = new WebSocket(`ws://127.0.0.1:${port}`)
  await new Promise((resolve) => client.once('open', resolve))
  const { server, tcp } = await accepted
  return { client, server, tcp, port, close: () => (client.terminate(), close()) }
}

it('holds the writes of one tick and sends them at the flush point, in order', async () => {
  const { client, server, tcp, close } = await socketPair()
  const transport = new WebSocketTransport(server, tcp, new ClientWrites())
  const got: string[] = []
  const all = new Promise<void>((resolve) =>
    client.on('message', (data) => {
      got.push(data.toString())
      if (got.length === 100) resolve()
    }),
  )
  for (let i = 0; i < 100; i++) transport.send(String(i), false)
  // Held (corked) until the end of the tick: nothing has been handed to the kernel yet.
  expect((tcp as Socket).writableCorked).toBe(1)
  await all
  expect((tcp as Socket).writableCorked).toBe(0)
  expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)))
  close()
})

it('sends binary frames as binary and text frames as text', async () => {
  const { client, server, tcp, close } = await socketPair()
  const transport = new WebSocketTransport(server, tcp, new ClientWrites())
  const got: Array<[string, boolean]> = []
  const both = new Promise<void>((resolve) =>
    client.on('message', (data, isBinary) => {
      got.push([data.toString(), isBinary])
      if (got.length === 2) resolve()
    }),
  )
  transport.send('text', false)
  transport.send(new TextEncoder().encode('bytes'), true)
  await both
  expect(got).toEqual([
    ['text', false],
    ['bytes', true],
  ])
  close()
})

it('cuts off a peer that never answers the close frame within seconds (ws closeTimeout), not ws default 30 s', async () => {
  const { port, accepted, close } = await listen()
  // A client that completes the upgrade and then never reads or answers anything.
  const peer = connect(port, '127.0.0.1')
  peer.write(
    'GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  )
  peer.on('error', () => {})
  const { server, tcp } = await accepted
  const transport = new WebSocketTransport(server, tcp, new ClientWrites())
  const started = Date.now()
  transport.close()
  await transport.closed
  expect(Date.now() - started).toBeLessThan(10_000)
  peer.destroy()
  close()
}, 15_000)

it('reads nothing while held, also after a throttle pause ends, and everything once released', async () => {
  const { client, server, tcp, close } = await socketPair()
  const transport = new WebSocketTransport(server, tcp, new ClientWrites())
  const got: string[] = []
  transport.onMessage = (data) => got.push(String(data))
  transport.holdReceiving(true)
  transport.pauseReceiving(20)
  client.send('while held')
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(got).toEqual([])
  transport.holdReceiving(false)
  await new Promise((resolve) => setTimeout(resolve, 100))
  expect(got).toEqual(['while held'])
  close()
})

it('reports a close with an error code as IM_CONNECTION_CLOSED, and a normal close as no error', async () => {
  for (const [code, expected] of [
    [4000, { code: 'IM_CONNECTION_CLOSED', message: 'WebSocket closed with status code 4000' }],
    [1000, undefined],
  ] as const) {
    const { client, server, tcp, close } = await socketPair()
    const transport = new WebSocketTransport(server, tcp, new ClientWrites())
    const ended = new Promise<Error | undefined>((resolve) => (transport.onClose = resolve))
    client.close(code)
    const error = await ended
    if (expected === undefined) expect(error).toBeUndefined()
    else expect(error).toMatchObject({ name: 'ImError', ...expected })
    close()
  }
})
