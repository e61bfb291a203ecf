/**
 * What a client POSTs on long polling and Server-Sent Events is read by its connection's protocol,
 * whatever the Content-Type, as ASP.NET Core reads it (HttpConnectionDispatcher.ProcessSend copies
 * the body into the connection untouched). Clients send all three kinds: the JavaScript clients
 * before 7.0 post MessagePack as text/plain;charset=UTF-8, and under Node 1.x and 3.x send no
 * Content-Type, nor does the .NET client (SendUtils); JavaScript 7.0 and later post
 * application/octet-stream.
 * Raw HTTP here, so that each header is exactly the one under test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { JsonHubProtocol } from '../../src/protocol/json-hub-protocol.js'
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import type { HubProtocol } from '../../src/protocol/hub-protocol.js'
import { MessageType } from '../../src/protocol/messages.js'
import type { HubMessage } from '../../src/protocol/messages.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const CONTENT_TYPES = [
  ['no Content-Type', undefined],
  ['text/plain;charset=UTF-8', 'text/plain;charset=UTF-8'],
  ['application/octet-stream', 'application/octet-stream'],
] as const

const PROTOCOLS: ReadonlyArray<readonly [string, HubProtocol]> = [
  ['json', new JsonHubProtocol()],
  ['messagepack', new MessagePackHubProtocol()],
]

/** Bytes that are not UTF-8 (MessagePack bin) and non-ASCII text: what reading by Content-Type broke. */
const ARGUMENTS: Record<string, unknown> = {
  json: { text: 'héllo ✓ 你好', n: 1 },
  messagepack: { text: 'héllo ✓ 你好', bytes: Buffer.from([0x00, 0x80, 0xc1, 0xff, 0xfe, 0x1e]), n: 1 },
}

const HANDSHAKE_ANSWER = '{}\u001e'

let server: TestServer

beforeAll(async () => {
  server = await startTestServer({ hubs: [EchoHub] })
})

afterAll(async () => {
  await server?.close()
})

const handshake = (protocol: HubProtocol): Buffer => Buffer.from(`{"protocol":"${protocol.name}","version":1}\u001e`)

const echo = (protocol: HubProtocol, invocationId: string, argument: unknown): Buffer =>
  Buffer.from(protocol.writeMessage({ type: MessageType.Invocation, invocationId, target: 'echo', arguments: [argument] }))

function post(at: string, body: Uint8Array, contentType: string | undefined): Promise<Response> {
  // A Uint8Array body gets no Content-Type from fetch (Fetch standard, "extract a body").
  return fetch(at, { method: 'POST', body, ...(contentType ? { headers: { 'Content-Type': contentType } } : {}) })
}

async function openConnection(): Promise<string> {
  const negotiated = await fetch(`${server.hubUrl('/hubs/echo')}/negotiate?negotiateVersion=1`, { method: 'POST' })
  const { connectionToken } = (await negotiated.json()) as { connectionToken: string }
  return `${server.hubUrl('/hubs/echo')}?id=${connectionToken}`
}

/** A long-polling connection: the first poll opens it; `poll()` gets what the server sent since. */
async function longPolling(): Promise<{ at: string; poll: () => Promise<Buffer> }> {
  const at = await openConnection()
  expect((await fetch(at)).status).toBe(200)
  const poll = async (): Promise<Buffer> => {
    const answer = await withTimeout(fetch(at), 5000, 'a poll')
    expect(answer.status).toBe(200)
    return Buffer.from(await answer.arrayBuffer())
  }
  return { at, poll }
}

/** Polls until `count` hub messages have come (after the handshake answer, which `skip` strips). */
async function pollMessages(poll: () => Promise<Buffer>, protocol: HubProtocol, count: number, skip = 0): Promise<HubMessage[]> {
  let received = Buffer.alloc(0)
  let messages: HubMessage[] = []
  while (messages.length < count) {
    received = Buffer.concat([received, await poll()])
    const frames = received.subarray(skip)
    messages = protocol.parseMessages(protocol.name === 'json' ? frames.toString('utf8') : frames).messages
  }
  return messages
}

describe.each(PROTOCOLS)('long polling, %s', (name, protocol) => {
  it.each(CONTENT_TYPES)('reads the handshake and invocations posted with %s', async (_label, contentType) => {
    const { at, poll } = await longPolling()
    expect((await post(at, handshake(protocol), contentType)).status).toBe(200)
    expect((await poll()).toString('utf8')).toBe(HANDSHAKE_ANSWER)
    expect((await post(at, echo(protocol, '1', ARGUMENTS[name]), contentType)).status).toBe(200)
    expect(await pollMessages(poll, protocol, 1)).toEqual([{ type: MessageType.Completion, invocationId: '1', result: ARGUMENTS[name] }])
    expect((await fetch(at, { method: 'DELETE' })).status).toBe(202)
  })

  it('reads an invocation posted in the same body as the handshake', async () => {
    const { at, poll } = await longPolling()
    await post(at, Buffer.concat([handshake(protocol), echo(protocol, '1', ARGUMENTS[name])]), undefined)
    const answer = await pollMessages(poll, protocol, 1, HANDSHAKE_ANSWER.length)
    expect(answer).toEqual([{ type: MessageType.Completion, invocationId: '1', result: ARGUMENTS[name] }])
    await fetch(at, { method: 'DELETE' })
  })
})

describe('long polling, json', () => {
  const json = new JsonHubProtocol()

  it('joins a character cut in two by the end of a body with the rest of it', async () => {
    const { at, poll } = await longPolling()
    await post(at, handshake(json), 'text/plain;charset=UTF-8')
    await poll()
    const frame = echo(json, '1', '✓ split')
    const cut = frame.indexOf(Buffer.from('✓')) + 1
    await post(at, frame.subarray(0, cut), 'text/plain;charset=UTF-8')
    await post(at, frame.subarray(cut), 'text/plain;charset=UTF-8')
    expect(await pollMessages(poll, json, 1)).toEqual([{ type: MessageType.Completion, invocationId: '1', result: '✓ split' }])
    await fetch(at, { method: 'DELETE' })
  })

  it('closes a connection that posts bytes that are not UTF-8, with the JSON reader\'s error', async () => {
    const { at, poll } = await longPolling()
    await post(at, handshake(json), 'text/plain;charset=UTF-8')
    await poll()
    const invalidBefore = server.metrics.get('connections_closed_invalid_data')
    // A client always has a poll waiting: the Close goes out on it as the connection ends.
    const closing = pollMessages(poll, json, 1)
    const frame = Buffer.concat([Buffer.from('{"type":1,"target":"echo","arguments":["'), Buffer.of(0xc3, 0x28), Buffer.from('"]}\u001e')])
    await post(at, frame, 'text/plain;charset=UTF-8')
    expect(await closing).toEqual([
      { type: MessageType.Close, error: 'Connection closed with an error. InvalidDataException: Error reading JSON.', allowReconnect: true },
    ])
    expect(server.metrics.get('connections_closed_invalid_data')).toBe(invalidBefore + 1)
  })
})

describe('Server-Sent Events, json', () => {
  const json = new JsonHubProtocol()

  it.each(CONTENT_TYPES)('reads the handshake and invocations posted with %s', async (_label, contentType) => {
    const at = await openConnection()
    const controller = new AbortController()
    const stream = await fetch(at, { headers: { Accept: 'text/event-stream' }, signal: controller.signal })
    const reader = stream.body!.getReader()
    let events = ''
    const readUntil = (text: string): Promise<void> =>
      withTimeout(
        (async () => {
          while (!events.includes(text)) events += new TextDecoder().decode((await reader.read()).value)
        })(),
        5000,
        `an event with ${text}`,
      )
    expect((await post(at, handshake(json), contentType)).status).toBe(200)
    await readUntil(`data: ${HANDSHAKE_ANSWER}`)
    expect((await post(at, echo(json, '1', ARGUMENTS.json), contentType)).status).toBe(200)
    await readUntil('"type":3')
    expect(events).toContain(`data: {"type":3,"invocationId":"1","result":${JSON.stringify(ARGUMENTS.json)}}\u001e`)
    controller.abort()
  })
})
