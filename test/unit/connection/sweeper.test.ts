/**
 * ConnectionSweeper over real connections on fake transports, with the time given to each sweep
 * and to the connections' clock: which connection is pinged, timed out, abandoned or cancelled,
 * as the client would see it.
 */
import { describe, expect, it } from 'vitest'
import { ConnectionSweeper } from '../../../src/connection/connection-sweeper.js'
import type { SweeperOptions } from '../../../src/connection/connection-sweeper.js'
import { ConnectionState } from '../../../src/connection/hub-connection.js'
import { MessageType } from '../../../src/protocol/messages.js'
import { FakeTransport, harness, invocation, openHarness, RS, T0 } from './fake-transport.js'
import type { Harness, HarnessOptions } from './fake-transport.js'

const KEEP_ALIVE = 15_000
const CLIENT_TIMEOUT = 30_000
const HANDSHAKE_TIMEOUT = 15_000
const RECONNECT_WINDOW = 15_000
const SILENT_CLIENT_ERROR =
  "Connection closed with an error. OperationCanceledException: Client hasn't sent a message/ping within the configured ClientTimeoutInterval."
const PING = { type: MessageType.Ping }

function sweeperWith(harnesses: Harness[], options: Partial<SweeperOptions> = {}): ConnectionSweeper {
  const sweeper = new ConnectionSweeper({
    keepAliveIntervalMs: KEEP_ALIVE,
    clientTimeoutMs: CLIENT_TIMEOUT,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT,
    statefulReconnectWindowMs: RECONNECT_WINDOW,
    ...options,
  })
  for (const h of harnesses) sweeper.add(h.connection)
  return sweeper
}

/** An open connection made at T0 on a clock shared with the test. */
function open(options: HarnessOptions = {}): Harness {
  return openHarness({ clock: { now: T0 }, ...options })
}

describe('ConnectionSweeper.sweep', () => {
  it('pings a connection sent nothing for the keep-alive interval; a write counts as a send at the next sweep', () => {
    const quiet = open()
    const busy = open()
    busy.connection.send(invocation('news'))
    const sweeper = sweeperWith([quiet, busy])
    sweeper.sweep(T0 + KEEP_ALIVE - 1)
    expect(quiet.transport.messages()).toEqual([])
    sweeper.sweep(T0 + KEEP_ALIVE)
    expect(quiet.transport.messages()).toEqual([PING])
    // The write was found at the first sweep: the next ping is due a whole interval after it.
    expect(busy.transport.messages()).toEqual([invocation('news')])
    sweeper.sweep(T0 + 2 * KEEP_ALIVE - 2)
    expect(busy.transport.messages()).toEqual([invocation('news')])
    sweeper.sweep(T0 + 2 * KEEP_ALIVE - 1)
    expect(busy.transport.messages()).toEqual([invocation('news'), PING])
  })

  it('pings over Server-Sent Events too, but never a long-polling connection, nor times it out', () => {
    const sse = open({ transport: new FakeTransport('ServerSentEvents') })
    const polling = open({ transport: new FakeTransport('LongPolling') })
    const sweeper = sweeperWith([sse, polling])
    sweeper.sweep(T0 + KEEP_ALIVE)
    expect(sse.transport.messages()).toEqual([PING])
    expect(polling.transport.messages()).toEqual([])
    sweeper.sweep(T0 + CLIENT_TIMEOUT * 10)
    expect(polling.transport.messages()).toEqual([])
    expect(polling.connection.state).toBe(ConnectionState.Open)
  })

  it('closes a client silent for the client timeout, allowing reconnect, with the .NET text', () => {
    const silent = open()
    const talking = open()
    talking.clock.now = T0 + 1
    talking.transport.deliverMessages(PING)
    sweeperWith([silent, talking]).sweep(T0 + CLIENT_TIMEOUT)
    expect(silent.transport.messages()).toEqual([{ type: MessageType.Close, error: SILENT_CLIENT_ERROR, allowReconnect: true }])
    expect(silent.connection.state).toBe(ConnectionState.Closed)
    expect(silent.events).toEqual([{ kind: 'disconnected', error: SILENT_CLIENT_ERROR }])
    expect(talking.connection.state).toBe(ConnectionState.Open)
  })

  it('does not time out a client whose reading the server holds, and starts its timeout afresh on release', () => {
    const h = open()
    h.connection.holdReceiving(true)
    const sweeper = sweeperWith([h])
    sweeper.sweep(T0 + CLIENT_TIMEOUT * 2)
    expect(h.connection.state).toBe(ConnectionState.Open)
    h.clock.now = T0 + CLIENT_TIMEOUT * 2
    h.connection.holdReceiving(false)
    expect(h.transport.holds).toEqual([true, false])
    sweeper.sweep(T0 + CLIENT_TIMEOUT * 3 - 1)
    expect(h.connection.state).toBe(ConnectionState.Open)
    sweeper.sweep(T0 + CLIENT_TIMEOUT * 3)
    expect(h.connection.state).toBe(ConnectionState.Closed)
  })

  it('cancels a handshake that has taken the handshake timeout, and leaves a younger one alone', () => {
    const slow = harness({ clock: { now: T0 } })
    const young = harness({ clock: { now: T0 + 1 } })
    sweeperWith([slow, young]).sweep(T0 + HANDSHAKE_TIMEOUT)
    expect(slow.transport.sent).toEqual([{ data: `{"error":"Handshake was canceled."}${RS}`, binary: false }])
    expect(slow.connection.state).toBe(ConnectionState.Closed)
    expect(young.transport.sent).toEqual([])
    expect(young.connection.state).toBe(ConnectionState.Handshaking)
  })

  it('abandons a detached connection once the reconnect window has passed, and leaves a waiting one alone', () => {
    const expired = open({ stateful: true })
    const waiting = open({ stateful: true })
    expired.transport.end(new Error('reset'))
    waiting.clock.now = T0 + 1
    waiting.transport.end(new Error('reset'))
    sweeperWith([expired, waiting]).sweep(T0 + RECONNECT_WINDOW)
    expect(expired.connection.state).toBe(ConnectionState.Closed)
    expect(expired.events).toEqual([{ kind: 'disconnected', error: 'The client did not reconnect in time.' }])
    expect(waiting.connection.state).toBe(ConnectionState.Detached)
    // Neither pinged nor timed out while detached, however long the client has been silent.
    expect(waiting.transport.messages()).toEqual([])
  })

  it('closes a connection whose token has expired, allowing reconnect, only when asked to', () => {
    const expiring = open({ expiresAt: T0 + 1000 })
    sweeperWith([expiring]).sweep(T0 + 1000)
    expect(expiring.connection.state).toBe(ConnectionState.Open)
    sweeperWith([expiring], { closeOnTokenExpiry: true }).sweep(T0 + 999)
    expect(expiring.connection.state).toBe(ConnectionState.Open)
    sweeperWith([expiring], { closeOnTokenExpiry: true }).sweep(T0 + 1000)
    expect(expiring.transport.messages()).toEqual([{ type: MessageType.Close, allowReconnect: true }])
    expect(expiring.connection.state).toBe(ConnectionState.Closed)
  })

  it('sends the due stateful-reconnect Ack at a sweep', () => {
    const h = open({ stateful: true })
    h.transport.deliverMessages(invocation('a'))
    sweeperWith([h]).sweep(T0 + 1)
    expect(h.transport.messages()).toEqual([{ type: MessageType.Ack, sequenceId: 1 }])
  })

  it('leaves closed connections alone, and stops looking at a removed one', () => {
    const closed = open()
    closed.connection.close()
    const removed = open()
    const sweeper = sweeperWith([closed, removed])
    sweeper.remove(removed.connection)
    const sentBefore = closed.transport.sent.length
    sweeper.sweep(T0 + CLIENT_TIMEOUT * 10)
    expect(closed.transport.sent).toHaveLength(sentBefore)
    expect(removed.connection.state).toBe(ConnectionState.Open)
    expect(removed.transport.sent).toEqual([])
  })
})
