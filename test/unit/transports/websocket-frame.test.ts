/**
 * The one use of ws's unexported-in-types frame builder (Sender.frame): if ws renames it or changes
 * what it builds, these fail (and so does importing websocket-frame.ts).
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect, it } from 'vitest'
import * as ws from 'ws'
import WebSocket, { WebSocketServer } from 'ws'
import { webSocketFrame } from '../../../src/transports/websocket-frame.js'

it('ws still exports Sender.frame', () => {
  expect(typeof (ws as unknown as { Sender: { frame: unknown } }).Sender.frame).toBe('function')
})

it('builds a final, unmasked text frame: header and UTF-8 payload in one buffer', () => {
  const text = 'ü'.repeat(200)
  const frame = webSocketFrame(text, false)
  // 0x81: final text frame; 126: a 16-bit length follows (400 bytes); the payload is the UTF-8 bytes.
  expect([...frame.subarray(0, 4)]).toEqual([0x81, 126, 1, 144])
  expect(frame.subarray(4).toString('utf8')).toBe(text)
  expect([...webSocketFrame(new Uint8Array([1, 2, 3]), true)]).toEqual([0x82, 3, 1, 2, 3])
})

it('builds frames a ws client reads as ws would have sent them', async () => {
  const http = createServer()
  const wss = new WebSocketServer({ noServer: true })
  const accepted = new Promise<import('node:stream').Duplex>((resolve) => http.once('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, () => resolve(socket))))
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const client = new WebSocket(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`)
  const got: Array<[string, boolean]> = []
  const both = new Promise<void>((resolve) =>
    client.on('message', (data, isBinary) => {
      got.push([data.toString(), isBinary])
      if (got.length === 2) resolve()
    }),
  )
  const tcp = await accepted
  const big = 'x'.repeat(70_000) // a 64-bit length
  tcp.write(webSocketFrame(big, false))
  tcp.write(webSocketFrame(new TextEncoder().encode('bin'), true))
  await both
  expect(got).toEqual([
    [big, false],
    ['bin', true],
  ])
  client.terminate()
  wss.close()
  http.close()
})
