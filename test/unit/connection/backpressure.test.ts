/**
 * A client that does not read what it is sent, driven through a fake transport whose buffered
 * bytes and messages the test sets: a burst far past the bound closes it at once, a client still
 * past the bound one sweep after it was first seen there is closed, one that drains is not.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { HARD_BOUND_FACTOR } from '../../../src/connection/outbound-bound.js'
import { MessageType } from '../../../src/protocol/messages.js'
import { FakeTransport, invocation, openHarness, T0 } from './fake-transport.js'

const BOUND = { bytes: 1000, messages: 100 }
const SLOW_ERROR = 'Connection closed with an error. The client is not reading its messages: more than 1000 bytes or 100 messages are waiting.'

function slowClient(transport = new FakeTransport()) {
  return openHarness({ transport, maxBuffered: BOUND })
}

describe('HubConnection backpressure', () => {
  it('closes a client past the bound at two sweeps in a row, allowing reconnect, once', () => {
    const { connection, transport, events, counters } = slowClient()
    transport.bufferedBytes = BOUND.bytes + 1
    connection.checkBackpressure(T0)
    expect(connection.state).toBe(ConnectionState.Open)
    connection.checkBackpressure(T0 + 1)
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(transport.messages()).toEqual([{ type: MessageType.Close, error: SLOW_ERROR, allowReconnect: true }])
    expect(events).toEqual([{ kind: 'disconnected', error: SLOW_ERROR }])
    expect(counters.slowConsumers).toBe(1)
  })

  it('does not close a client that drained between two sweeps', () => {
    const { connection, transport } = slowClient()
    transport.bufferedBytes = BOUND.bytes + 1
    connection.checkBackpressure(T0)
    transport.bufferedBytes = 0
    connection.checkBackpressure(T0 + 1)
    transport.bufferedBytes = BOUND.bytes + 1
    connection.checkBackpressure(T0 + 2)
    expect(connection.state).toBe(ConnectionState.Open)
  })

  it('counts messages where the transport queues them (long polling)', () => {
    const { connection, transport } = slowClient(new FakeTransport('LongPolling'))
    transport.bufferedMessages = BOUND.messages + 1
    connection.checkBackpressure(T0)
    connection.checkBackpressure(T0 + 1)
    expect(connection.state).toBe(ConnectionState.Closed)
  })

  it('lets a burst pass the bound for a moment, and closes at once a client past it many times over', () => {
    const { connection, transport, counters } = slowClient()
    transport.bufferedBytes = BOUND.bytes * HARD_BOUND_FACTOR
    connection.send(invocation('burst'))
    expect(connection.state).toBe(ConnectionState.Open)
    transport.bufferedBytes = BOUND.bytes * HARD_BOUND_FACTOR + 1
    connection.send(invocation('one too many'))
    expect(connection.state).toBe(ConnectionState.Closed)
    expect(transport.messages().at(-1)).toEqual({ type: MessageType.Close, error: SLOW_ERROR, allowReconnect: true })
    // The Close itself went past the bound: it did not start a second close.
    expect(counters.slowConsumers).toBe(1)
    expect(transport.closes).toHaveLength(1)
  })

  it('holds back and resumes reading from the client through the transport, only on a change', () => {
    const { connection, transport } = slowClient()
    connection.holdReceiving(true)
    connection.holdReceiving(true)
    connection.holdReceiving(false)
    expect(transport.holds).toEqual([true, false])
  })
})
