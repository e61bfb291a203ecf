/**
 * The handshake of one connection, driven through a fake transport: what the client reads back,
 * what the hub hears, and the state the connection is left in.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { MessageType } from '../../../src/protocol/messages.js'
import { FakeTransport, harness, invocation, openHarness, RS } from './fake-transport.js'

describe('HubConnection handshake', () => {
  it('answers {} to a JSON handshake, opens, and tells the hub once', () => {
    const { connection, transport, events } = harness()
    expect(connection.state).toBe(ConnectionState.Handshaking)
    expect(connection.isConnected).toBe(false)
    transport.deliver(`{"protocol":"json","version":1}${RS}`)
    expect(transport.sent).toEqual([{ data: `{}${RS}`, binary: false }])
    expect(connection.state).toBe(ConnectionState.Open)
    expect(connection.isConnected).toBe(true)
    expect(connection.protocol.name).toBe('json')
    expect(events).toEqual([{ kind: 'connected' }])
  })

  it('waits for the rest of a handshake split over two transport messages', () => {
    const { connection, transport, events } = harness()
    transport.deliver('{"protocol":"js')
    expect(transport.sent).toEqual([])
    expect(connection.state).toBe(ConnectionState.Handshaking)
    transport.deliver(`on","version":1}${RS}`)
    expect(connection.state).toBe(ConnectionState.Open)
    expect(events).toEqual([{ kind: 'connected' }])
  })

  it('hands on the hub messages that came in the same transport message as the handshake', () => {
    const { transport, events } = harness()
    transport.deliver(`{"protocol":"json","version":1}${RS}{"type":1,"target":"hello","arguments":[1]}${RS}`)
    expect(events).toEqual([{ kind: 'connected' }, { kind: 'message', message: invocation('hello', [1]), size: expect.any(Number) }])
  })

  it('answers a MessagePack handshake with a binary frame', () => {
    const { connection, transport } = harness()
    transport.deliver(`{"protocol":"messagepack","version":1}${RS}`)
    expect(transport.sent).toHaveLength(1)
    expect(transport.sent[0]!.binary).toBe(true)
    expect(new TextDecoder().decode(transport.sent[0]!.data as Uint8Array)).toBe(`{}${RS}`)
    expect(connection.protocol.name).toBe('messagepack')
  })

  it.each([
    ['an unknown protocol', `{"protocol":"xml","version":1}${RS}`, "The protocol 'xml' is not supported.", 'WebSockets' as const],
    ['a version the server lacks', `{"protocol":"json","version":9}${RS}`, "The server does not support version 9 of the 'json' protocol.", 'WebSockets' as const],
    [
      'MessagePack over Server-Sent Events',
      `{"protocol":"messagepack","version":1}${RS}`,
      "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format.",
      'ServerSentEvents' as const,
    ],
    ['a malformed request', `{"protocol":1}${RS}`, 'An unexpected error occurred during connection handshake.', 'WebSockets' as const],
  ])('refuses %s with the .NET text, closes, and the hub never hears of it', (_, request, error, name) => {
    const { connection, transport, events, ended } = harness({ transport: new FakeTransport(name) })
    transport.deliver(request)
    expect(transport.sent).toEqual([{ data: `{"error":${JSON.stringify(error)}}${RS}`, binary: false }])
    expect(transport.closes).toHaveLength(1)
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([])
    expect(ended()).toBe(1)
  })

  it('sends nothing before the handshake has completed', () => {
    const { connection, transport } = harness()
    connection.send({ type: MessageType.Ping })
    connection.sendFrame(`{"type":1,"target":"x","arguments":[]}${RS}`)
    expect(transport.sent).toEqual([])
  })

  it('ends without telling the hub when the transport goes during the handshake', () => {
    const { connection, transport, events, ended } = harness()
    transport.end(new Error('reset'))
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([])
    expect(ended()).toBe(1)
    // A late handshake on the dead transport changes nothing.
    transport.deliver(`{"protocol":"json","version":1}${RS}`)
    expect(transport.sent).toEqual([])
  })
})

describe('HubConnection after the handshake', () => {
  it('answers a client Close with a plain Close, ends, and tells the hub without an error', () => {
    const { connection, transport, events, ended } = openHarness()
    transport.deliverMessages({ type: MessageType.Close })
    expect(transport.messages()).toEqual([{ type: MessageType.Close }])
    expect(transport.closes).toHaveLength(1)
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([{ kind: 'disconnected', error: undefined }])
    expect(ended()).toBe(1)
  })

  it('closes a client that sends what its protocol cannot read, with the reason, allowing reconnect', () => {
    const { connection, transport, events, counters } = openHarness()
    transport.deliver(`{"type":1,"target":"ok","arguments":[]}${RS}not json${RS}`)
    const close = transport.messages().at(-1)
    expect(close).toMatchObject({ type: MessageType.Close, allowReconnect: true })
    expect(close).toHaveProperty('error', expect.stringMatching(/^Connection closed with an error\. InvalidDataException: /))
    expect(counters.invalidData).toBe(1)
    expect(connection.state).toBe(ConnectionState.Closed)
    // The message before the broken one was still handed on.
    expect(events.map((e) => e.kind)).toEqual(['message', 'disconnected'])
  })

  it('tells the client and the hub the error of a server close, once', () => {
    const { connection, transport, events, ended } = openHarness()
    connection.close({ error: 'Connection closed with an error. Bye.', allowReconnect: false })
    connection.close({ error: 'again' })
    // allowReconnect false is the default on the wire: the JSON Close leaves it out.
    expect(transport.messages()).toEqual([{ type: MessageType.Close, error: 'Connection closed with an error. Bye.' }])
    expect(events).toEqual([{ kind: 'disconnected', error: 'Connection closed with an error. Bye.' }])
    expect(ended()).toBe(1)
    connection.send({ type: MessageType.Ping })
    expect(transport.messages()).toHaveLength(1)
  })

  it('ends when the transport is lost on a connection without stateful reconnect', () => {
    const { connection, transport, events } = openHarness()
    transport.end(new Error('reset'))
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([{ kind: 'disconnected', error: 'reset' }])
  })
})
