/**
 * Stateful reconnect on one node, driven through fake transports: a lost transport leaves the
 * connection detached, what is sent meanwhile is buffered, and a resume on a new transport
 * replays what the client has not acknowledged after a Sequence message.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { OpeningRequest } from '../../../src/connection/opening-request.js'
import { MessageType } from '../../../src/protocol/messages.js'
import { FakeTransport, harness, invocation, openHarness, RS } from './fake-transport.js'

const say = (text: string) => invocation('say', [text])

describe('HubConnection stateful reconnect', () => {
  it('is on only with both the negotiate opt-in and handshake version 2', () => {
    expect(openHarness({ stateful: true }).connection.canResume).toBe(true)
    const v1 = harness({ stateful: true })
    v1.transport.deliver(`{"protocol":"json","version":1}${RS}`)
    expect(v1.connection.canResume).toBe(false)
    expect(openHarness({ stateful: false }).connection.canResume).toBe(false)
  })

  it('detaches on a lost transport, buffers what is sent, and replays it after a Sequence on resume', () => {
    const { connection, transport, events, clock } = openHarness({ stateful: true })
    connection.send(say('one'))
    transport.end(new Error('reset'))
    expect(connection.state).toBe(ConnectionState.Detached)
    expect(connection.detachedSince).toBe(clock.now)
    expect(events).toEqual([])
    connection.send(say('two'))
    connection.send({ type: MessageType.Ping })
    expect(transport.messages()).toEqual([say('one')])

    const next = new FakeTransport()
    connection.resume(next)
    expect(connection.state).toBe(ConnectionState.Open)
    expect(connection.detachedSince).toBeUndefined()
    expect(next.messages()).toEqual([{ type: MessageType.Sequence, sequenceId: 1 }, say('one'), say('two')])
    // Writes go to the new transport from now on.
    connection.send(say('three'))
    expect(next.messages().at(-1)).toEqual(say('three'))
    expect(transport.closes).toHaveLength(1)
  })

  it('replays only what the client has not acknowledged', () => {
    const { connection, transport } = openHarness({ stateful: true })
    for (const text of ['a', 'b', 'c']) connection.send(say(text))
    transport.deliverMessages({ type: MessageType.Ack, sequenceId: 2 })
    const next = new FakeTransport()
    connection.resume(next)
    expect(next.messages()).toEqual([{ type: MessageType.Sequence, sequenceId: 3 }, say('c')])
  })

  it('swaps a transport that still looks alive, and ignores the old one from then on', () => {
    const { connection, transport, events } = openHarness({ stateful: true })
    const next = new FakeTransport()
    connection.resume(next)
    expect(transport.closes).toHaveLength(1)
    transport.end(new Error('late'))
    transport.deliverMessages(invocation('stale'))
    expect(connection.state).toBe(ConnectionState.Open)
    expect(events).toEqual([])
  })

  it('hands on a message replayed by the client after a resume only once', () => {
    const { connection, transport, events } = openHarness({ stateful: true })
    transport.deliverMessages(invocation('first'), invocation('second'))
    transport.end(new Error('reset'))
    const next = new FakeTransport()
    connection.resume(next)
    // The client did not see our Ack: it starts again from its first message.
    next.deliverMessages({ type: MessageType.Sequence, sequenceId: 1 }, invocation('first'), invocation('second'), invocation('third'))
    const targets = events.map((e) => (e.kind === 'message' && e.message.type === MessageType.Invocation ? e.message.target : e.kind))
    expect(targets).toEqual(['first', 'second', 'third'])
  })

  it('closes a client whose Sequence is beyond what the server received', () => {
    const { connection, transport } = openHarness({ stateful: true })
    transport.deliverMessages(invocation('only'), { type: MessageType.Sequence, sequenceId: 5 })
    expect(transport.messages().at(-1)).toEqual({
      type: MessageType.Close,
      error: "Connection closed with an error. InvalidOperationException: Sequence ID greater than amount of messages we've received.",
    })
    expect(connection.state).toBe(ConnectionState.Closed)
  })

  it('acknowledges what arrived once, and not again until more arrives', () => {
    const { connection, transport } = openHarness({ stateful: true })
    transport.deliverMessages(invocation('a'), invocation('b'))
    connection.sendAck()
    connection.sendAck()
    transport.deliverMessages(invocation('c'))
    connection.sendAck()
    expect(transport.messages()).toEqual([
      { type: MessageType.Ack, sequenceId: 2 },
      { type: MessageType.Ack, sequenceId: 3 },
    ])
  })

  it('closes cleanly, allowing reconnect, when the unacknowledged frames pass the buffer limit', () => {
    const { connection, transport, events } = openHarness({ stateful: true, statefulReconnectBufferSize: 100 })
    connection.send(say('x'.repeat(60)))
    connection.send(say('y'.repeat(60)))
    expect(transport.messages().at(-1)).toEqual({
      type: MessageType.Close,
      error: 'Connection closed with an error. The stateful reconnect buffer of 100 bytes is full.',
      allowReconnect: true,
    })
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events.at(-1)).toMatchObject({ kind: 'disconnected' })
  })

  it('ends, telling the hub, when the client closes the transport cleanly', () => {
    const { connection, transport, events } = openHarness({ stateful: true })
    transport.end()
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([{ kind: 'disconnected', error: undefined }])
  })

  it('ends for good when abandoned while detached, with the reason', () => {
    const { connection, transport, events, ended } = openHarness({ stateful: true })
    transport.end(new Error('reset'))
    connection.abandon()
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(connection.canResume).toBe(false)
    expect(events).toEqual([{ kind: 'disconnected', error: 'The client did not reconnect in time.' }])
    expect(ended()).toBe(1)
    const late = new FakeTransport()
    connection.resume(late)
    expect(late.closes).toHaveLength(1)
    expect(late.sent).toEqual([])
  })

  it('refuses a resume of a connection without stateful reconnect by closing the new transport', () => {
    const { connection } = openHarness()
    const next = new FakeTransport()
    connection.resume(next)
    expect(next.closes).toHaveLength(1)
    expect(connection.transport).not.toBe(next)
  })

  it('refuses a resume that comes after it ended, closing the new transport and keeping its own', () => {
    const { connection, transport, events } = openHarness({ stateful: true })
    connection.close()
    const late = new FakeTransport()
    connection.resume(late)
    expect(late.closes).toHaveLength(1)
    expect(late.sent).toEqual([])
    expect(connection.transport).toBe(transport)
    expect(events).toEqual([{ kind: 'disconnected', error: undefined }])
  })

  it('names as its transport the one it last resumed on, the only place that says so', () => {
    const { connection, transport } = openHarness({ stateful: true })
    expect(connection.transport).toBe(transport)
    transport.end(new Error('reset'))
    expect(connection.transport).toBe(transport)
    const next = new FakeTransport()
    connection.resume(next)
    expect(connection.transport).toBe(next)
    const third = new FakeTransport()
    connection.resume(third)
    expect(connection.transport).toBe(third)
    expect(next.closes).toHaveLength(1)
  })

  it('takes the request of the reconnect as its own', () => {
    const first = OpeningRequest.capture({ 'x-n': '1' }, '/hub', '', undefined, 'WebSockets')
    const second = OpeningRequest.capture({ 'x-n': '2' }, '/hub', '', undefined, 'WebSockets')
    const { connection } = openHarness({ stateful: true, request: first })
    connection.resume(new FakeTransport(), second)
    expect(connection.request?.snapshot().headers['x-n']).toBe('2')
  })

  it('keeps reading held on the new transport when it was held on the old one', () => {
    const { connection } = openHarness({ stateful: true })
    connection.holdReceiving(true)
    const next = new FakeTransport()
    connection.resume(next)
    expect(next.holds).toEqual([true])
  })
})

describe('HubConnection.suspend (a draining node lets a stateful WebSocket go)', () => {
  it('detaches without a Close, closing the socket as going away and no longer hearing it', () => {
    const { connection, transport, events } = openHarness({ stateful: true })
    expect(connection.suspend()).toBe(true)
    expect(connection.state).toBe(ConnectionState.Detached)
    expect(transport.messages()).toEqual([])
    expect(transport.closes).toEqual([{ goingAway: true }])
    expect(transport.onMessage).toBeUndefined()
    expect(transport.onClose).toBeUndefined()
    expect(events).toEqual([])
  })

  it('refuses a connection that cannot resume, or not over WebSockets', () => {
    expect(openHarness().connection.suspend()).toBe(false)
    const sse = openHarness({ stateful: true, transport: new FakeTransport('ServerSentEvents') })
    expect(sse.connection.suspend()).toBe(false)
    expect(sse.connection.state).toBe(ConnectionState.Open)
  })
})
