/**
 * Dates and bytes travel as ASP.NET Core writes them: over JSON an ISO 8601 string and a base64
 * string (System.Text.Json's DateTimeOffset and byte[]), over MessagePack a timestamp and bin, which
 * the official clients read as a Date and a Uint8Array. Checked with the official client on both
 * protocols, for a hub method's result, a stream, a service publish relayed by hub code (through
 * the node-to-node hop), and for what IMService forwards to the services on NATS.
 */
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { ExtData } from '@msgpack/msgpack'
import { describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { messagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import type { HubMessage } from '../../src/protocol/messages.js'
import { Forward, Hub, HubBase, HubMethod, HubStream, Subscribe } from '../../src/index.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import type { ClientOptions, TestClient } from '../support/clients.js'

const SENT_AT = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))
const SENT_AT_ISO = '2024-01-02T03:04:05.678Z'
const BYTES = Uint8Array.of(0, 1, 2, 250, 255)
const BYTES_BASE64 = 'AAEC+v8='
const INVALID_DATE = "An unexpected error occurred invoking 'invalidDate' on the server."

@Hub({ name: 'wireforms', path: '/hubs/wire-forms' })
class WireFormsHub extends HubBase {
  @HubMethod()
  attachment(): { sentAt: Date; data: Uint8Array; buffer: Buffer; empty: Uint8Array } {
    return { sentAt: SENT_AT, data: BYTES, buffer: Buffer.from('hi'), empty: new Uint8Array(0) }
  }

  @HubMethod()
  invalidDate(): { at: Date } {
    return { at: new Date('not a date') }
  }

  @HubStream()
  async *frames(): AsyncIterable<unknown> {
    yield BYTES
    yield [SENT_AT]
  }

  @HubMethod()
  async forwardBoth(): Promise<void> {
    await this.forward('svc.wireforms.both', 'forwardBoth', [BYTES, { at: SENT_AT }])
  }

  @Forward('svc.wireforms.upload')
  upload(data: Uint8Array, at: Date): void {
    void data
    void at
  }

  /** Sends from a hub method go to every node through NATS, this one included. */
  @HubMethod()
  async announce(): Promise<void> {
    await this.clients.all.send('note', { at: SENT_AT, data: BYTES })
  }

  /** A service publishes JSON (ISO and base64 strings); hub code relays typed values to this node's connections. */
  @Subscribe('im.wireforms.note')
  async note(payload: { at: string; data: string }): Promise<void> {
    await this.clients.all.send('note', { at: new Date(payload.at), data: Buffer.from(payload.data, 'base64') })
  }
}

const fixture = natsFixture({ nodes: [{ hubs: [WireFormsHub] }] })

const connect = (options: ClientOptions = {}): Promise<TestClient> => connectClient(fixture.server.hubUrl('/hubs/wire-forms'), options)

function streamItems(client: TestClient, method: string): Promise<unknown[]> {
  return withTimeout(
    new Promise<unknown[]>((resolve, reject) => {
      const items: unknown[] = []
      client.stream(method).subscribe({ next: (item) => items.push(item), complete: () => resolve(items), error: reject })
    }),
    5000,
    `the ${method} stream`,
  )
}

describe('over JSON (System.Text.Json forms)', () => {
  it('writes a result\'s Date as ISO 8601 and its Uint8Array and Buffer as base64', async () => {
    await using c = await connect()
    expect(await c.invoke('attachment')).toEqual({ sentAt: SENT_AT_ISO, data: BYTES_BASE64, buffer: 'aGk=', empty: '' })
  })

  it('writes stream items the same way', async () => {
    await using c = await connect()
    expect(await streamItems(c, 'frames')).toEqual([BYTES_BASE64, [SENT_AT_ISO]])
  })

  it('relays a service publish that hub code turned into a Date and bytes', async () => {
    await using c = await connect()
    const inbox = new Inbox(c, 'note')
    await fixture.service.publish('im.wireforms.note', { at: SENT_AT_ISO, data: BYTES_BASE64 })
    expect(await inbox.next()).toEqual([{ at: SENT_AT_ISO, data: BYTES_BASE64 }])
  })

  it('writes a send from a hub method, which crossed the node-to-node hop, the same way', async () => {
    await using c = await connect()
    const inbox = new Inbox(c, 'note')
    await c.invoke('announce')
    expect(await inbox.next()).toEqual([{ at: SENT_AT_ISO, data: BYTES_BASE64 }])
  })

  it('fails the invocation for an invalid Date instead of writing null, and the connection goes on', async () => {
    await using c = await connect()
    await expect(c.invoke('invalidDate')).rejects.toThrow(INVALID_DATE)
    expect(await c.invoke('attachment')).toMatchObject({ sentAt: SENT_AT_ISO })
  })
})

describe('over MessagePack (timestamp and bin)', () => {
  const protocol = (): ClientOptions => ({ protocol: new MessagePackHubProtocol() })

  it('the official client reads a result\'s Date as a Date and its bytes as a Uint8Array', async () => {
    await using c = await connect(protocol())
    const result = (await c.invoke('attachment')) as Record<string, unknown>
    expect(result.sentAt).toBeInstanceOf(Date)
    expect(result.data).toBeInstanceOf(Uint8Array)
    expect(result).toEqual({ sentAt: SENT_AT, data: BYTES, buffer: new Uint8Array(Buffer.from('hi')), empty: new Uint8Array(0) })
  })

  it('reads stream items the same way', async () => {
    await using c = await connect(protocol())
    expect(await streamItems(c, 'frames')).toEqual([BYTES, [SENT_AT]])
  })

  it.each([
    ['a relayed service publish', () => fixture.service.publish('im.wireforms.note', { at: SENT_AT_ISO, data: BYTES_BASE64 })],
    ['a send from a hub method, although the node-to-node hop is JSON', (c: TestClient) => c.invoke('announce')],
  ])('gets a Date and a Uint8Array from %s', async (_, cause) => {
    await using c = await connect(protocol())
    const inbox = new Inbox(c, 'note')
    await cause(c)
    const [note] = (await inbox.next()) as [{ at: unknown; data: unknown }]
    expect(note.at).toBeInstanceOf(Date)
    expect(note.data).toBeInstanceOf(Uint8Array)
    expect(note).toEqual({ at: SENT_AT, data: BYTES })
  })

  it('fails the invocation for an invalid Date instead of writing 1970-01-01', async () => {
    await using c = await connect(protocol())
    await expect(c.invoke('invalidDate')).rejects.toThrow(INVALID_DATE)
    expect(await c.invoke('attachment')).toMatchObject({ sentAt: SENT_AT })
  })
})

describe('what IMService forwards to NATS', () => {
  it('carries bytes as base64 and dates as ISO 8601, for .NET services reading byte[] and DateTimeOffset', async () => {
    await using c = await connect()
    const listener = await fixture.service.listen('svc.wireforms.both')
    await c.invoke('forwardBoth')
    expect((await listener.next()).json).toMatchObject({ method: 'forwardBoth', args: [BYTES_BASE64, { at: SENT_AT_ISO }] })
  })

  it('forwards what a MessagePack client sent as bin and timestamp in the same JSON forms', async () => {
    await using c = await connect({ protocol: new MessagePackHubProtocol() })
    const listener = await fixture.service.listen('svc.wireforms.upload')
    await c.invoke('upload', BYTES, SENT_AT)
    expect((await listener.next()).json).toMatchObject({ method: 'upload', args: [BYTES_BASE64, SENT_AT_ISO] })
  })
})

describe('a MessagePack timestamp no Date can hold', () => {
  /** timestamp 96 with 2^60 seconds: it decodes to an Invalid Date, which has no JSON form. */
  const hugeTimestamp = (): ExtData => {
    const data = new Uint8Array(12)
    new DataView(data.buffer).setBigInt64(4, 2n ** 60n)
    return new ExtData(-1, data)
  }

  it('refuses the invocation with the binder text before the method runs, and the connection goes on', async () => {
    const ws = new WebSocket(fixture.server.hubUrl('/hubs/wire-forms').replace(/^http/, 'ws'))
    const received: HubMessage[] = []
    let pending: Uint8Array = new Uint8Array(0)
    let handshaken = false
    ws.on('message', (data: Buffer) => {
      let bytes: Uint8Array = pending.length === 0 ? new Uint8Array(data) : new Uint8Array([...pending, ...data])
      // The handshake answer is JSON text ended by 0x1E; frames after it are MessagePack.
      if (!handshaken) {
        handshaken = true
        bytes = bytes.subarray(bytes.indexOf(0x1e) + 1)
      }
      const { messages, rest } = messagePackHubProtocol.parseMessages(bytes)
      received.push(...messages)
      pending = rest instanceof Uint8Array ? rest : new Uint8Array(0)
    })
    await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 5000, 'the socket to open')
    const completion = async (id: string): Promise<HubMessage> => {
      const deadline = Date.now() + 5000
      for (;;) {
        const found = received.find((m) => m.type === 3 && m.invocationId === id)
        if (found) return found
        if (Date.now() > deadline) throw new Error(`no completion for ${id}`)
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    try {
      ws.send('{"protocol":"messagepack","version":1}\u001e')
      const listener = await fixture.service.listen('svc.wireforms.upload')
      ws.send(messagePackHubProtocol.writeMessage({ type: 1, invocationId: '1', target: 'upload', arguments: [BYTES, hugeTimestamp()], streamIds: [] }))
      // The binder refuses an invalid Date before the method runs, as ASP.NET's does.
      expect(await completion('1')).toMatchObject({ error: "Failed to invoke 'upload' due to an error on the server." })
      ws.send(messagePackHubProtocol.writeMessage({ type: 1, invocationId: '2', target: 'upload', arguments: [BYTES, SENT_AT], streamIds: [] }))
      expect(await completion('2')).toMatchObject({ result: null })
      expect((await listener.next()).json).toMatchObject({ args: [BYTES_BASE64, SENT_AT_ISO] })
    } finally {
      ws.close()
    }
  })
})
