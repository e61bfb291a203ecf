/**
 * MessagePack frames whose headers declare ten million elements they do not carry, sent by an
 * anonymous client on WebSockets and on long polling: the connection is closed with the precise
 * error, the node's memory does not move, and a bystander still gets a broadcast. On Server-Sent
 * Events, which carry text only, a messagepack handshake is refused before any frame is read. Before the
 * bounds check, the 41-byte frame pinned some 650 MB and the 402-byte one killed the process.
 *
 * The node runs in this process, so its memory is this process's: the peak RSS (getrusage's
 * high-water mark) catches an allocation that is freed again at once.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { DefaultHub } from '../../hubs/default-hub.js'
import { messagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import { declaredElementsError } from '../../src/protocol/msgpack-bounds.js'
import { CLOSE_ERROR_PREFIX } from '../../src/protocol/messages.js'
import type { HubMessage } from '../../src/protocol/messages.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { closed, connectClient, Inbox, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { BOMB_402, BOMB_41, BOMB_DECLARED_LENGTH } from '../support/msgpack-bombs.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const MB = 1024 * 1024
/** Far below one unguarded header (80 MB of array slots), far above what a refused frame costs. */
const MEMORY_BOUND = 50 * MB

/** Each frame, and the bytes left after its first header (the payload less 5): the refusal names them. */
const BOMBS = [
  ['41-byte', BOMB_41, 35],
  ['402-byte', BOMB_402, 395],
] as const

let server: TestServer
let bystander: TestClient
let inbox: Inbox
let broadcasts = 0

beforeAll(async () => {
  server = await startTestServer({ hubs: [DefaultHub, EchoHub] })
  bystander = await connectClient(server.hubUrl(), { protocol: new MessagePackHubProtocol() })
  inbox = new Inbox(bystander, 'afterBomb')
})

afterAll(async () => {
  await bystander?.stop()
  await server?.close()
})

/** The Close text of a bomb: its first header already declares more than the frame can hold. */
function closeError(bytesLeft: number): string {
  return `${CLOSE_ERROR_PREFIX} InvalidDataException: ${declaredElementsError('array', 0, BOMB_DECLARED_LENGTH, 0, bytesLeft)}`
}

/** Peak resident set size of this process so far, bytes. */
const peakRss = (): number => process.resourceUsage().maxRSS * 1024

/** The node still serves: a broadcast reaches the bystander, which stayed connected. */
async function bystanderGetsBroadcast(): Promise<void> {
  const n = ++broadcasts
  await server.bus.publish('im.default.send', new TextEncoder().encode(JSON.stringify({ method: 'afterBomb', args: [n] })))
  expect(await inbox.next()).toEqual([n])
  expect(bystander.state).toBe(signalR.HubConnectionState.Connected)
}

/** Opens a raw WebSocket, completes a messagepack handshake and sends `frame`; resolves with what came back. */
async function sendOnWebSocket(frame: Uint8Array): Promise<{ messages: HubMessage[]; code: number }> {
  const ws = new WebSocket(server.hubUrl().replace('http', 'ws'))
  const received: Buffer[] = []
  let wake: (() => void) | undefined
  ws.on('message', (data: Buffer) => {
    received.push(data)
    wake?.()
  })
  const closedWith = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'the socket to open')
  ws.send(Buffer.from('{"protocol":"messagepack","version":1}\u001e'), { binary: true })
  await withTimeout(
    (async () => {
      while (received.length === 0) await new Promise<void>((resolve) => (wake = resolve))
    })(),
    5000,
    'the handshake reply',
  )
  expect(received[0]!.toString()).toBe('{}\u001e')
  ws.send(frame, { binary: true })
  const code = await withTimeout(closedWith, 5000, 'the node to close the socket')
  const messages = received.slice(1).flatMap((data) => messagePackHubProtocol.parseMessages(new Uint8Array(data)).messages)
  return { messages, code }
}

/**
 * What an official client's connection offers to send raw bytes: HttpConnection.send, which on
 * long polling POSTs an ArrayBuffer as application/octet-stream, as the MessagePack protocol does.
 */
interface RawSend {
  readonly connection: { send(data: ArrayBuffer): Promise<void> }
}

describe('declared-length bombs over WebSockets', () => {
  it.each(BOMBS)('closes the connection that sends the %s frame with the precise error; memory stays flat', async (_name, frame, bytesLeft) => {
    const invalidBefore = server.metrics.get('connections_closed_invalid_data')
    const peakBefore = peakRss()
    const heapBefore = process.memoryUsage().heapUsed
    const { messages, code } = await sendOnWebSocket(frame)
    expect(peakRss() - peakBefore).toBeLessThan(MEMORY_BOUND)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(MEMORY_BOUND)
    expect(messages).toEqual([{ type: 7, error: closeError(bytesLeft), allowReconnect: true }])
    expect(code).toBe(1000)
    expect(server.metrics.get('connections_closed_invalid_data')).toBe(invalidBefore + 1)
    await bystanderGetsBroadcast()
  })
})

describe('declared-length bombs over long polling', () => {
  it.each(BOMBS)('closes the connection that POSTs the %s frame with the precise error; memory stays flat', async (_name, frame, bytesLeft) => {
    const attacker = await connectClient(server.hubUrl('/hubs/echo'), { transport: signalR.HttpTransportType.LongPolling, protocol: new MessagePackHubProtocol() })
    // A normal call first, so that what the attacker's connection costs anyway is spent before measuring.
    await expect(attacker.invoke('echo', 'warm')).resolves.toBe('warm')
    const closing = closed(attacker)
    const invalidBefore = server.metrics.get('connections_closed_invalid_data')
    const peakBefore = peakRss()
    const heapBefore = process.memoryUsage().heapUsed
    const body = frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) as ArrayBuffer
    await (attacker as unknown as RawSend).connection.send(body)
    const error = await closing
    expect(peakRss() - peakBefore).toBeLessThan(MEMORY_BOUND)
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(MEMORY_BOUND)
    expect(error?.message).toBe(`Server returned an error on close: ${closeError(bytesLeft)}`)
    expect(server.metrics.get('connections_closed_invalid_data')).toBe(invalidBefore + 1)
    await bystanderGetsBroadcast()
  })
})

describe('declared-length bombs over Server-Sent Events', () => {
  it('never reach a MessagePack parser: the handshake in front of them is refused, memory stays flat', async () => {
    const { connectionToken } = (await (await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })).json()) as { connectionToken: string }
    const at = `${server.hubUrl()}?id=${connectionToken}`
    const controller = new AbortController()
    const stream = await fetch(at, { headers: { Accept: 'text/event-stream' }, signal: controller.signal })
    const reader = stream.body!.getReader()
    const peakBefore = peakRss()
    // The handshake and both bombs in one POST, as bytes: SSE carries text only (TransportProtocols.md).
    const body = Buffer.concat([Buffer.from('{"protocol":"messagepack","version":1}\u001e'), BOMB_41, BOMB_402])
    const posted = await fetch(at, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body })
    expect(posted.status).toBe(200)
    let text = ''
    await withTimeout(
      (async () => {
        while (!text.includes('\r\n\r\n')) text += new TextDecoder().decode((await reader.read()).value)
      })(),
      5000,
      'the handshake answer',
    )
    controller.abort()
    expect(text).toContain(`data: {"error":"Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."}\u001e`)
    expect(peakRss() - peakBefore).toBeLessThan(MEMORY_BOUND)
    await bystanderGetsBroadcast()
  })
})

describe('after the bombs', () => {
  it('serves new MessagePack clients on both transports', async () => {
    for (const transport of [signalR.HttpTransportType.WebSockets, signalR.HttpTransportType.LongPolling]) {
      await using client = await connectClient(server.hubUrl('/hubs/echo'), { transport, protocol: new MessagePackHubProtocol() })
      const big = Array.from({ length: 2000 }, (_, i) => i)
      expect(await client.invoke('echo', big)).toEqual(big)
    }
    await bystanderGetsBroadcast()
  })
})
