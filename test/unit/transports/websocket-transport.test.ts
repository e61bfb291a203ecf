import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Socket } from 'node:net'
import { expect, it } from 'vitest'
import WebSocket, { WebSocketServer } from 'ws'
import { rawSocket, WebSocketTransport } from '../../../src/transports/websocket-transport.js'
import { coalesce } from '../../../src/transports/write-coalescer.js'

/** A ws server socket and its client, on loopback. */
async function socketPair(): Promise<{ client: WebSocket; server: WebSocket; close(): void }> {
  const http = createServer()
  const wss = new WebSocketServer({ server: http })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`)
  await new Promise((resolve) => client.once('open', resolve))
  const server = await accepted
  return {
    client,
    server,
    close: () => {
      client.terminate()
      wss.close()
      http.close()
    },
  }
}

it("still finds the TCP socket inside ws (an internal the write coalescing relies on)", async () => {
  const { client, server, close } = await socketPair()
  expect(rawSocket(server)).toBeInstanceOf(Socket)
  close()
})

it('coalesces the writes of one turn: the peer receives them in order', async () => {
  const { client, server, close } = await socketPair()
  const got: string[] = []
  const all = new Promise<void>((resolve) =>
    client.on('message', (data) => {
      got.push(data.toString())
      if (got.length === 100) resolve()
    }),
  )
  for (let i = 0; i < 100; i++) {
    coalesce(rawSocket(server)!)
    server.send(String(i))
  }
  await all
  expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)))
  close()
})

it('builds a frame once per payload and the peer reads it as ws would have sent it', async () => {
  const { frameOf } = await import('../../../src/transports/websocket-frame.js')
  const text = 'ü'.repeat(200)
  const frame = frameOf(text, false)
  expect(frameOf(text, false)).toBe(frame)
  expect(frameOf(text, true)).not.toBe(frame)
  // 0x81: final text frame; 126: a 16-bit length follows; the payload is the UTF-8 bytes.
  expect([...frame.subarray(0, 4)]).toEqual([0x81, 126, 1, 144])
  expect(frame.subarray(4).toString('utf8')).toBe(text)

  const { client, server, close } = await socketPair()
  const got = new Promise<[string, boolean]>((resolve) => client.once('message', (data, isBinary) => resolve([data.toString(), isBinary])))
  rawSocket(server)!.write(frame)
  expect(await got).toEqual([text, false])
  close()
})

it('reads nothing while held, also after a throttle pause ends, and everything once released', async () => {
  const { client, server, close } = await socketPair()
  const transport = new WebSocketTransport(server)
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
    const { client, server, close } = await socketPair()
    const transport = new WebSocketTransport(server)
    const ended = new Promise<Error | undefined>((resolve) => (transport.onClose = resolve))
    client.close(code)
    const error = await ended
    if (expected === undefined) expect(error).toBeUndefined()
    else expect(error).toMatchObject({ name: 'ImError', ...expected })
    close()
  }
})
