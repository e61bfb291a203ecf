import { describe, expect, it, vi } from 'vitest'
import { ConnectionSweeper } from '../../../src/connection/connection-sweeper.js'
import type { ConnectionState, HubConnection } from '../../../src/connection/hub-connection.js'
import type { TransportName } from '../../../src/transports/transport.js'

const KEEP_ALIVE = 15_000
const CLIENT_TIMEOUT = 30_000
const HANDSHAKE_TIMEOUT = 15_000
const RECONNECT_WINDOW = 15_000
const NOW = 10_000_000
const SILENT_CLIENT_ERROR =
  "Connection closed with an error. OperationCanceledException: Client hasn't sent a message/ping within the configured ClientTimeoutInterval."

interface FakeConnectionInit {
  state?: ConnectionState
  transport?: TransportName
  /** How long ago each happened, in ms before NOW. */
  createdAgo?: number
  receivedAgo?: number
  pingedAgo?: number
  /** Set for a connection that lost its transport and waits for a stateful reconnect. */
  detachedAgo?: number
  /** Something was written to it since the last sweep. */
  wrote?: boolean
}

/** The parts of a HubConnection the sweeper reads and calls. */
function fakeConnection(init: FakeConnectionInit = {}) {
  const fake = {
    state: init.state ?? 'connected',
    createdAt: NOW - (init.createdAgo ?? 0),
    lastReceivedAt: NOW - (init.receivedAgo ?? 0),
    lastPingAt: NOW - (init.pingedAgo ?? 0),
    wrote: init.wrote ?? false,
    transport: { name: init.transport ?? 'WebSockets' },
    detachedAt: init.detachedAgo === undefined ? undefined : NOW - init.detachedAgo,
    sendPing: vi.fn(),
    sendAck: vi.fn(),
    abandon: vi.fn(),
    checkBackpressure: vi.fn(),
    close: vi.fn(),
    failHandshake: vi.fn(),
  }
  return fake
}

function sweeperWith(...connections: Array<ReturnType<typeof fakeConnection>>): ConnectionSweeper {
  const sweeper = new ConnectionSweeper({
    keepAliveIntervalMs: KEEP_ALIVE,
    clientTimeoutMs: CLIENT_TIMEOUT,
    handshakeTimeoutMs: HANDSHAKE_TIMEOUT,
    statefulReconnectWindowMs: RECONNECT_WINDOW,
  })
  for (const connection of connections) sweeper.add(connection as unknown as HubConnection)
  return sweeper
}

const untouched = (connection: ReturnType<typeof fakeConnection>): void => {
  expect(connection.sendPing).not.toHaveBeenCalled()
  expect(connection.close).not.toHaveBeenCalled()
  expect(connection.failHandshake).not.toHaveBeenCalled()
}

describe('ConnectionSweeper.sweep', () => {
  it('pings only a connection that was sent nothing for the keep-alive interval', () => {
    const quiet = fakeConnection({ pingedAgo: KEEP_ALIVE })
    const busy = fakeConnection({ pingedAgo: KEEP_ALIVE, wrote: true })
    const sweeper = sweeperWith(quiet, busy)
    sweeper.sweep(NOW)
    expect(quiet.sendPing).toHaveBeenCalledTimes(1)
    expect(busy.sendPing).not.toHaveBeenCalled()
    // The write counted as a send at this sweep: the next ping is due a whole interval later.
    expect(busy.wrote).toBe(false)
    expect(busy.lastPingAt).toBe(NOW)
    sweeper.sweep(NOW + KEEP_ALIVE - 1)
    expect(busy.sendPing).not.toHaveBeenCalled()
    sweeper.sweep(NOW + KEEP_ALIVE)
    expect(busy.sendPing).toHaveBeenCalledTimes(1)
  })

  it('abandons a connection that lost its transport once the reconnect window has passed, and leaves a waiting one alone', () => {
    const expired = fakeConnection({ detachedAgo: RECONNECT_WINDOW, receivedAgo: CLIENT_TIMEOUT * 2, pingedAgo: KEEP_ALIVE * 2 })
    const waiting = fakeConnection({ detachedAgo: RECONNECT_WINDOW - 1, receivedAgo: CLIENT_TIMEOUT * 2, pingedAgo: KEEP_ALIVE * 2 })
    sweeperWith(expired, waiting).sweep(NOW)
    expect(expired.abandon).toHaveBeenCalledTimes(1)
    expect(waiting.abandon).not.toHaveBeenCalled()
    untouched(waiting)
  })

  it('has every connected connection check its backpressure on every tick', () => {
    const connection = fakeConnection()
    const polling = fakeConnection({ transport: 'LongPolling' })
    sweeperWith(connection, polling).sweep(NOW)
    expect(connection.checkBackpressure).toHaveBeenCalledWith(NOW)
    expect(polling.checkBackpressure).toHaveBeenCalledWith(NOW)
  })

  it('sends the due stateful-reconnect Ack on every tick', () => {
    const connection = fakeConnection()
    sweeperWith(connection).sweep(NOW)
    expect(connection.sendAck).toHaveBeenCalledTimes(1)
  })

  it('pings a connection whose last ping is a keep-alive interval old, and only that one', () => {
    const due = fakeConnection({ pingedAgo: KEEP_ALIVE })
    const overdue = fakeConnection({ pingedAgo: KEEP_ALIVE + 5000 })
    const recent = fakeConnection({ pingedAgo: KEEP_ALIVE - 1 })
    sweeperWith(due, overdue, recent).sweep(NOW)
    expect(due.sendPing).toHaveBeenCalledTimes(1)
    expect(overdue.sendPing).toHaveBeenCalledTimes(1)
    untouched(recent)
  })

  it.each(['WebSockets', 'ServerSentEvents'] as const)('pings over %s', (transport) => {
    const connection = fakeConnection({ transport, pingedAgo: KEEP_ALIVE })
    sweeperWith(connection).sweep(NOW)
    expect(connection.sendPing).toHaveBeenCalledTimes(1)
  })

  it('never pings a long-polling connection, nor closes it for silence', () => {
    const connection = fakeConnection({ transport: 'LongPolling', pingedAgo: KEEP_ALIVE * 10, receivedAgo: CLIENT_TIMEOUT * 10 })
    sweeperWith(connection).sweep(NOW)
    untouched(connection)
  })

  it('closes a connection silent for the client timeout, allowing reconnect, with the .NET text', () => {
    const silent = fakeConnection({ receivedAgo: CLIENT_TIMEOUT, pingedAgo: KEEP_ALIVE })
    const talking = fakeConnection({ receivedAgo: CLIENT_TIMEOUT - 1 })
    sweeperWith(silent, talking).sweep(NOW)
    expect(silent.close).toHaveBeenCalledTimes(1)
    expect(silent.close).toHaveBeenCalledWith({ error: SILENT_CLIENT_ERROR, allowReconnect: true })
    // Closed, so not pinged as well.
    expect(silent.sendPing).not.toHaveBeenCalled()
    untouched(talking)
  })

  it('cancels a handshake that has taken the handshake timeout', () => {
    const slow = fakeConnection({ state: 'handshake', createdAgo: HANDSHAKE_TIMEOUT, receivedAgo: CLIENT_TIMEOUT, pingedAgo: KEEP_ALIVE })
    const young = fakeConnection({ state: 'handshake', createdAgo: HANDSHAKE_TIMEOUT - 1, receivedAgo: CLIENT_TIMEOUT, pingedAgo: KEEP_ALIVE })
    sweeperWith(slow, young).sweep(NOW)
    expect(slow.failHandshake).toHaveBeenCalledWith('Handshake was canceled.')
    expect(slow.close).not.toHaveBeenCalled()
    expect(slow.sendPing).not.toHaveBeenCalled()
    // Still in its handshake: neither pinged nor timed out as a client.
    untouched(young)
  })

  it('leaves closed connections alone', () => {
    const closed = fakeConnection({ state: 'closed', createdAgo: HANDSHAKE_TIMEOUT, receivedAgo: CLIENT_TIMEOUT, pingedAgo: KEEP_ALIVE })
    sweeperWith(closed).sweep(NOW)
    untouched(closed)
  })

  it('stops looking at a removed connection', () => {
    const connection = fakeConnection({ receivedAgo: CLIENT_TIMEOUT })
    const sweeper = sweeperWith(connection)
    sweeper.remove(connection as unknown as HubConnection)
    sweeper.sweep(NOW)
    untouched(connection)
  })

  it('acts on each connection independently in one sweep', () => {
    const toPing = fakeConnection({ pingedAgo: KEEP_ALIVE })
    const toClose = fakeConnection({ receivedAgo: CLIENT_TIMEOUT })
    const toCancel = fakeConnection({ state: 'handshake', createdAgo: HANDSHAKE_TIMEOUT })
    sweeperWith(toPing, toClose, toCancel).sweep(NOW)
    expect(toPing.sendPing).toHaveBeenCalledTimes(1)
    expect(toClose.close).toHaveBeenCalledTimes(1)
    expect(toCancel.failHandshake).toHaveBeenCalledTimes(1)
  })
})
