/**
 * Moving a stateful-reconnect connection between nodes (connection-move.ts), both ends driven
 * through fake transports: the holder offers and hands over its state without anyone hearing
 * the connection end; the new node collects, adopts the old state and resumes the client.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { MessageType } from '../../../src/protocol/messages.js'
import { FakeTransport, harness, invocation, openHarness } from './fake-transport.js'

const say = (text: string) => invocation('say', [text])

/** A connection arriving from another node: its placeholder transport must never be written to. */
function movingIn(options: { statefulReconnectBufferSize?: number } = {}) {
  return harness({ movingIn: { protocol: 'json' }, stateful: true, ...options })
}

describe('HubConnection moving away (the holder)', () => {
  it('offers only a connection that can resume, and hands over nothing without an offer', () => {
    expect(openHarness().connection.offerMove([])).toBeUndefined()
    const { connection } = openHarness({ stateful: true })
    expect(connection.moveAway([], [])).toBeUndefined()
    expect(connection.state).toBe(ConnectionState.Open)
    expect(connection.offerMove(['room'])).toEqual({ connectionId: 'connection-1', protocol: 'json', groups: ['room'] })
  })

  it('hands over its unacknowledged frames and counters, and ends here without the client or the hub hearing of it', () => {
    const { connection, transport, events, ended } = openHarness({ stateful: true })
    transport.deliverMessages(invocation('from-client'))
    connection.send(say('before'))
    connection.offerMove(['room'])
    connection.send(say('after'))
    events.length = 0
    const state = connection.moveAway(['room', 'other'], ['s1'])!
    expect(state.mark).toBe(1)
    expect(state.groups).toEqual(['room', 'other'])
    expect(state.streams).toEqual(['s1'])
    expect(state.buffer).toMatchObject({ sent: 2, received: 1 })
    expect(state.buffer.frames.map((f) => f.id)).toEqual([1, 2])
    expect(connection.state).toBe(ConnectionState.MovedAway)
    expect(connection.moved).toBe(true)
    expect(events).toEqual([{ kind: 'moved-away' }])
    expect(ended()).toBe(1)
    expect(transport.messages().some((m) => m.type === MessageType.Close)).toBe(false)
    expect(transport.closes).toEqual([{ goingAway: true }])
    // Gone from here: nothing more is sent or heard.
    connection.send(say('late'))
    connection.close()
    expect(transport.messages().at(-1)).toEqual(say('after'))
    expect(events).toEqual([{ kind: 'moved-away' }])
  })

  it('moves a connection the draining node already let go', () => {
    const { connection } = openHarness({ stateful: true })
    connection.suspend()
    connection.offerMove([])
    expect(connection.moveAway([], [])).toBeDefined()
    expect(connection.state).toBe(ConnectionState.MovedAway)
  })
})

describe('HubConnection moving in (the new node)', () => {
  it('starts moving in, collecting what is sent without writing it, and cannot be offered on', () => {
    const { connection, events, transport } = movingIn()
    expect(connection.state).toBe(ConnectionState.MovingIn)
    expect(connection.isConnected).toBe(true)
    expect(connection.canResume).toBe(false)
    expect(connection.offerMove([])).toBeUndefined()
    connection.send(say('collected'))
    connection.send({ type: MessageType.Ping })
    expect(transport.sent).toEqual([])
    expect(events).toEqual([])
  })

  it('puts the old state first, drops the overlap, ends the streams that could not move, and resumes the client', () => {
    const { connection, events } = movingIn()
    // Both nodes handled 'shared' (a broadcast): the holder sent it after its mark.
    connection.sendFrame('{"type":1,"target":"say","arguments":["shared"]}\u001e')
    connection.sendFrame('{"type":1,"target":"say","arguments":["new"]}\u001e')
    connection.completeMove({
      buffer: {
        sent: 2,
        received: 4,
        frames: [
          { id: 1, frame: '{"type":1,"target":"say","arguments":["old"]}\u001e', shared: true },
          { id: 2, frame: '{"type":1,"target":"say","arguments":["shared"]}\u001e', shared: true },
        ],
      },
      mark: 1,
      groups: [],
      streams: ['s9'],
    })
    expect(connection.state).toBe(ConnectionState.Detached)
    expect(connection.canResume).toBe(true)
    const socket = new FakeTransport()
    connection.resume(socket)
    expect(connection.state).toBe(ConnectionState.Open)
    expect(socket.messages()).toEqual([
      { type: MessageType.Sequence, sequenceId: 1 },
      say('old'),
      say('shared'),
      say('new'),
      { type: MessageType.Completion, invocationId: 's9', error: 'The stream ended: the connection moved to another server.' },
    ])
    // The client's own numbering goes on from the old node's count.
    socket.deliverMessages({ type: MessageType.Sequence, sequenceId: 5 }, invocation('next'))
    expect(events.map((e) => e.kind)).toEqual(['message'])
  })

  it('keeps the reconnect window from when the move began', () => {
    const { connection, clock } = movingIn()
    const began = clock.now
    clock.now += 500
    connection.completeMove({ buffer: { sent: 0, received: 0, frames: [] }, mark: 0, groups: [], streams: [] })
    expect(connection.detachedSince).toBe(began)
  })

  it('ends without anyone hearing of it when the move is abandoned', () => {
    const { connection, events, ended } = movingIn()
    connection.abandonMove()
    expect(connection.state).toBe(ConnectionState.MovedAway)
    expect(events).toEqual([{ kind: 'moved-away' }])
    expect(ended()).toBe(1)
    // Only once, and only while moving in.
    connection.abandonMove()
    expect(ended()).toBe(1)
  })

  it('closes, telling the hub, when the adopted state passes the buffer limit', () => {
    const { connection, events } = movingIn({ statefulReconnectBufferSize: 10 })
    connection.completeMove({ buffer: { sent: 1, received: 0, frames: [{ id: 1, frame: 'x'.repeat(20), shared: true }] }, mark: 1, groups: [], streams: [] })
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(events).toEqual([{ kind: 'disconnected', error: 'Connection closed with an error. The stateful reconnect buffer of 10 bytes is full.' }])
  })

  it('ignores a state, or an abandoned move, for a connection that is not moving in', () => {
    const { connection, transport } = openHarness({ stateful: true })
    connection.completeMove({ buffer: { sent: 9, received: 9, frames: [] }, mark: 0, groups: [], streams: ['s'] })
    expect(connection.state).toBe(ConnectionState.Open)
    connection.abandonMove()
    expect(connection.state).toBe(ConnectionState.Open)
    expect(transport.messages()).toEqual([])
  })

  it('refuses to move in with a protocol this node does not serve', () => {
    expect(() => harness({ movingIn: { protocol: 'xml' }, stateful: true })).toThrow(/xml/)
  })
})
