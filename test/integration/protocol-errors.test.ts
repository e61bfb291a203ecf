/**
 * Bad input from clients: each gets the exact error a SignalR client expects, and costs nothing
 * else: the process stays up and other connections keep working.
 */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { closed, connectClient, withTimeout } from '../support/clients.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const RS = '\u001e'

interface NegotiateBody {
  negotiateVersion: number
  connectionId: string
  connectionToken?: string
  error?: string
}

async function negotiate(query: string): Promise<NegotiateBody> {
  return (await (await fetch(`${server.hubUrl()}/negotiate${query}`, { method: 'POST' })).json()) as NegotiateBody
}
let server: TestServer
let bystander: signalR.HubConnection

/** A raw WebSocket to a hub that records every text frame it receives. */
async function rawSocket(path = '/signalr-hubs/default', query = '', on: TestServer = server): Promise<{ ws: WebSocket; frames: string[]; next(): Promise<string>; closedWith: Promise<number> }> {
  const ws = new WebSocket(`${on.url.replace('http', 'ws')}${path}${query}`)
  const frames: string[] = []
  let wake: (() => void) | undefined
  ws.on('message', (data) => {
    frames.push(data.toString())
    wake?.()
  })
  const closedWith = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)))
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'the socket to open')
  let read = 0
  const next = async (): Promise<string> => {
    const index = read++
    return withTimeout(
      (async () => {
        while (frames.length <= index) await new Promise<void>((r) => (wake = r))
        return frames[index]!
      })(),
      5000,
      'a frame',
    )
  }
  return { ws, frames, next, closedWith }
}

beforeAll(async () => {
  server = await startTestServer({
    hubs: [DefaultHub, EchoHub],
    config: { hubs: { handshakeTimeoutMs: 300 } },
  })
  bystander = await connectClient(server.hubUrl('/hubs/echo'))
})

afterAll(async () => {
  await bystander?.stop()
  await server?.close()
})

/** Whatever the test did, the bystander on the same node still works. */
async function bystanderStillWorks(): Promise<void> {
  expect(bystander.state).toBe(signalR.HubConnectionState.Connected)
  await expect(bystander.invoke('echo', 'still here')).resolves.toBe('still here')
}

describe('negotiate', () => {
  it('answers version 1 with a secret token distinct from the connection id', async () => {
    const response = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST' })
    const body = (await response.json()) as NegotiateBody
    expect(response.status).toBe(200)
    expect(body).toMatchObject({
      negotiateVersion: 1,
      availableTransports: [
        { transport: 'WebSockets', transferFormats: ['Text', 'Binary'] },
        { transport: 'ServerSentEvents', transferFormats: ['Text'] },
        { transport: 'LongPolling', transferFormats: ['Text', 'Binary'] },
      ],
    })
    // A 6-character node tag, then 16 random bytes in base64url.
    expect(body.connectionToken).toMatch(/^[A-Za-z0-9_-]{28}$/)
    expect(body.connectionId).not.toBe(body.connectionToken)
  })

  it('answers an old client (no negotiateVersion) with version 0 and no token', async () => {
    const body = await negotiate('')
    expect(body.negotiateVersion).toBe(0)
    expect(body).not.toHaveProperty('connectionToken')
    const socket = await rawSocket('/signalr-hubs/default', `?id=${body.connectionId}`)
    socket.ws.send(`{"protocol":"json","version":1}${RS}`)
    expect(await socket.next()).toBe(`{}${RS}`)
    socket.ws.close()
  })

  it('reports a non-integer version the way the client shows it', async () => {
    const body = await negotiate('?negotiateVersion=abc')
    expect(body).toEqual({ error: 'The client requested a non-integer protocol version.' })
  })

  it('refuses GET with 405', async () => {
    expect((await fetch(`${server.hubUrl()}/negotiate`)).status).toBe(405)
  })

  it('refuses a WebSocket whose connection token is unknown with 404', async () => {
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.hubUrl().replace('http', 'ws')}?id=not-a-token`)
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => {})
    })
    expect(status).toBe(404)
  })

  it('opens a token once: a second socket on a live connection gets 409', async () => {
    const body = await negotiate('?negotiateVersion=1')
    const first = await rawSocket('/signalr-hubs/default', `?id=${body.connectionToken}`)
    const status = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${server.hubUrl().replace('http', 'ws')}?id=${body.connectionToken}`)
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('error', () => {})
    })
    expect(status).toBe(409)
    first.ws.close()
  })

  it('lets a client skip negotiation on WebSockets', async () => {
    const c = await connectClient(server.hubUrl('/hubs/echo'), { skipNegotiation: true })
    expect(c.connectionId).toBeNull()
    await expect(c.invoke('echo', '你好，世界！')).resolves.toBe('你好，世界！')
    await c.stop()
  })
})

describe('handshake', () => {
  it.each([
    [`{"protocol":"xml","version":1}${RS}`, "The protocol 'xml' is not supported."],
    [`{"protocol":"json","version":3}${RS}`, "The server does not support version 3 of the 'json' protocol."],
    [`{"protocol":"json"${RS}`, 'An unexpected error occurred during connection handshake.'],
    [`{"version":1}${RS}`, 'An unexpected error occurred during connection handshake.'],
  ])('answers %j with an error and closes', async (request, error) => {
    const socket = await rawSocket()
    socket.ws.send(request)
    expect(await socket.next()).toBe(`${JSON.stringify({ error })}${RS}`)
    expect(await withTimeout(socket.closedWith, 5000, 'close')).toBe(1000)
    await bystanderStillWorks()
  })

  it('accepts a handshake split over two messages, and messages in the same frame as it', async () => {
    const socket = await rawSocket('/hubs/echo')
    socket.ws.send('{"protocol":"js')
    socket.ws.send(`on","version":1}${RS}{"type":1,"invocationId":"1","target":"echo","arguments":["x"]}${RS}`)
    expect(await socket.next()).toBe(`{}${RS}`)
    expect(await socket.next()).toBe(`{"type":3,"invocationId":"1","result":"x"}${RS}`)
    socket.ws.close()
  })

  it('cancels a handshake that does not arrive in time', async () => {
    const socket = await rawSocket()
    expect(await socket.next()).toBe(`{"error":"Handshake was canceled."}${RS}`)
    await withTimeout(socket.closedWith, 5000, 'close')
  })
})

describe('hub messages', () => {
  it('closes a connection that sends a message over the size limit, with the reason, and no one else', async () => {
    const c = await connectClient(server.hubUrl('/hubs/echo'))
    const closing = closed(c)
    c.invoke('echo', 'x'.repeat(40 * 1024)).catch(() => {})
    const error = await closing
    expect(error?.message).toBe(
      'Server returned an error on close: Connection closed with an error. InvalidDataException: The maximum message size of 32768B was exceeded. The message size can be configured in AddHubOptions.',
    )
    await bystanderStillWorks()
  })

  it('closes a connection that sends a malformed message, allowing reconnect', async () => {
    const socket = await rawSocket('/hubs/echo')
    socket.ws.send(`{"protocol":"json","version":1}${RS}`)
    await socket.next()
    socket.ws.send(`{"type":1,"target":"echo","arguments":"nope"}${RS}`)
    const close = JSON.parse((await socket.next()).slice(0, -1))
    expect(close).toEqual({ type: 7, error: "Connection closed with an error. InvalidDataException: Expected 'arguments' to be of type Array.", allowReconnect: true })
    expect(await withTimeout(socket.closedWith, 5000, 'close')).toBe(1000)
    await bystanderStillWorks()
  })

  it("answers an unknown method with the .NET server's error", async () => {
    await expect(bystander.invoke('doesNotExist', 1)).rejects.toThrow(
      "Failed to invoke 'doesNotExist' due to an error on the server. HubException: Method does not exist.",
    )
  })

  it('answers a wrong argument count without details by default', async () => {
    await expect(bystander.invoke('echo')).rejects.toThrow(/^Failed to invoke 'echo' due to an error on the server\.$/)
    await expect(bystander.invoke('echo', 1, 2)).rejects.toThrow(/^Failed to invoke 'echo' due to an error on the server\.$/)
    await expect(bystander.invoke('add', 1)).resolves.toBe(1)
    await expect(bystander.invoke('add', 1, 2)).resolves.toBe(3)
  })

  it('matches method names ignoring case', async () => {
    await expect(bystander.invoke('ECHO', 'y')).resolves.toBe('y')
  })

  it('gives HubException text to the client and hides other errors', async () => {
    await expect(bystander.invoke('fail', 'out of stock')).rejects.toThrow(
      "An unexpected error occurred invoking 'fail' on the server. HubException: out of stock",
    )
    await expect(bystander.invoke('crash')).rejects.toThrow(/^An unexpected error occurred invoking 'crash' on the server\.$/)
    await expect(bystander.invoke('bigint')).rejects.toThrow(/^An unexpected error occurred invoking 'bigint' on the server\.$/)
  })

  it('sends no Completion for a non-blocking call, even to an unknown method', async () => {
    const socket = await rawSocket('/hubs/echo')
    socket.ws.send(`{"protocol":"json","version":1}${RS}`)
    await socket.next()
    socket.ws.send(`{"type":1,"target":"nope","arguments":[]}${RS}{"type":1,"target":"echo","arguments":[1]}${RS}{"type":1,"invocationId":"9","target":"echo","arguments":[2]}${RS}`)
    expect(await socket.next()).toBe(`{"type":3,"invocationId":"9","result":2}${RS}`)
    socket.ws.close()
  })

  it('refuses a streaming call of a non-streaming method', async () => {
    const error = await new Promise<Error>((resolve) => {
      bystander.stream('echo', 1).subscribe({ next: () => {}, complete: () => {}, error: resolve })
    })
    expect(error.message).toBe("The client attempted to invoke the non-streaming 'echo' method with a streaming invocation.")
  })

  it('answers a client Close with a plain Close and a 1000 close', async () => {
    const socket = await rawSocket('/hubs/echo')
    socket.ws.send(`{"protocol":"json","version":1}${RS}`)
    await socket.next()
    socket.ws.send(`{"type":7}${RS}`)
    expect(await socket.next()).toBe(`{"type":7}${RS}`)
    expect(await withTimeout(socket.closedWith, 5000, 'close')).toBe(1000)
  })

  it("ends the caller's connection without error on Context.abort()", async () => {
    const c = await connectClient(server.hubUrl('/hubs/echo'))
    const closing = closed(c)
    c.invoke('leave').catch(() => {})
    expect(await closing).toBeUndefined()
  })
})

describe('keep-alive and timeouts', () => {
  // A node of its own: its short client timeout would close idle clients of the other tests.
  let quick: TestServer
  beforeAll(async () => {
    quick = await startTestServer({ hubs: [EchoHub], config: { hubs: { keepAliveIntervalMs: 150, clientTimeoutMs: 600 } } })
  })
  afterAll(async () => {
    await quick?.close()
  })

  it('pings an idle client, then closes it once it stays silent past the client timeout', async () => {
    const socket = await rawSocket('/hubs/echo', '', quick)
    socket.ws.send(`{"protocol":"json","version":1}${RS}`)
    expect(await socket.next()).toBe(`{}${RS}`)
    expect(await socket.next()).toBe(`{"type":6}${RS}`)
    await withTimeout(socket.closedWith, 5000, 'close')
    const last = JSON.parse(socket.frames.at(-1)!.slice(0, -1))
    expect(last).toEqual({
      type: 7,
      error: "Connection closed with an error. OperationCanceledException: Client hasn't sent a message/ping within the configured ClientTimeoutInterval.",
      allowReconnect: true,
    })
  })

  it('keeps an official client that pings connected past the client timeout', async () => {
    const c = await connectClient(quick.hubUrl('/hubs/echo'))
    // The client schedules its next ping from its last send: send once so the new interval applies.
    c.keepAliveIntervalInMilliseconds = 100
    await c.invoke('echo', 1)
    await new Promise((resolve) => setTimeout(resolve, 1000))
    expect(c.state).toBe(signalR.HubConnectionState.Connected)
    await c.stop()
  })
})
