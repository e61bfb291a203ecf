/**
 * The bench's raw-protocol clients over `ws`, as the load workers run thousands of them: each speaks
 * just enough of its protocol to get ready and stay connected, and hands every record it reads to
 * a sink that counts. `openSignalR` is the one SignalR connection of the bench: the load workers'
 * `signalr` clients and the chaos suite's ReconnectingClient (reconnecting-client.ts) both open
 * theirs with it. Three kinds:
 * - `signalr`: JSON handshake (no negotiate here; churn does its own), records split at 0x1e;
 * - `socketio`: Engine.IO 4 over the WebSocket transport only: the `0{...}` open packet, `40` to
 *   join the default namespace (ready at the server's `40{...}`), `42["tick",...]` events,
 *   `43<id>[...]` acks, each server ping `2` answered with `3`;
 * - `natsws`: NATS over nats-server's WebSocket listener (nats-ws-protocol.ts), ready at the PONG
 *   that follows CONNECT and SUB; every PING answered with PONG.
 */
import WebSocket from 'ws'
import type { ClientKind } from './load-pool.js'
import { NATS_PONG, NatsStreamReader, natsGreeting } from './nats-ws-protocol.js'
import { BROADCAST_SUBJECT, HANDSHAKE_REQUEST, RECORD_SEPARATOR, nowMicros, readRecord, readSocketIoPacket } from './protocol.js'
import type { InboundRecord } from './protocol.js'

export const CONNECT_TIMEOUT_MS = 15_000

export interface Client {
  readonly ws: WebSocket
  readonly kind: ClientKind
  /** The user this connection belongs to (targeted delivery), or -1 when anonymous. */
  readonly user: number
  ready: boolean
  lastSeq: number
  received: number
  /** The invocation awaiting its completion (one at a time per client), or -1. */
  pending: number
  pendingAt: number
  nextInvocation: number
  readonly reader?: NatsStreamReader
}

/** Where a client's records go: the worker's counters. */
export interface Sink {
  record(client: Client, record: InboundRecord, now: number): void
}

/**
 * Opens a SignalR JSON connection at `url` (ws:, its query already carrying any token or
 * connection id) and resolves once the server answered the handshake with `{}`; `rest` is what
 * followed the answer in its frame. Rejects when the server refuses, closes or takes longer than
 * `timeoutMs`. The socket is returned without listeners: the caller adds its own, `error` included.
 */
export function openSignalR(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<{ ws: WebSocket; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs })
    const fail = (error: Error): void => {
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => undefined)
      ws.terminate()
      reject(error)
    }
    const timer = setTimeout(() => fail(new Error('handshake timeout')), timeoutMs)
    ws.once('open', () => ws.send(HANDSHAKE_REQUEST))
    ws.once('error', fail)
    ws.once('close', () => fail(new Error('closed before the handshake')))
    ws.once('message', (data: Buffer) => {
      const end = data.indexOf(RECORD_SEPARATOR)
      const answer = data.toString('utf8', 0, end < 0 ? data.length : end)
      if (answer !== '{}') return fail(new Error(`handshake refused: ${answer}`))
      clearTimeout(timer)
      ws.removeAllListeners()
      resolve({ ws, rest: data.subarray(end + 1) })
    })
  })
}

export function onData(client: Client, data: Buffer, sink: Sink): void {
  const now = nowMicros()
  if (client.kind === 'socketio') return onSocketIo(client, data, now, sink)
  if (client.kind === 'natsws') {
    return client.reader!.push(data, (record) => {
      if (record.kind === 'info') client.ws.send(natsGreeting(BROADCAST_SUBJECT))
      else if (record.kind === 'pong') client.ready = true
      else if (record.kind === 'ping') client.ws.send(NATS_PONG)
      else sink.record(client, record as InboundRecord, now)
    })
  }
  let start = 0
  for (;;) {
    const end = data.indexOf(RECORD_SEPARATOR, start)
    if (end < 0) break // a SignalR text frame always ends with the separator; a tail without one is not a record
    const record = readRecord(data, start, end)
    start = end + 1
    if (record.kind === 'handshake') client.ready = true
    else sink.record(client, record, now)
  }
}

/** One WebSocket message is one Engine.IO packet. */
function onSocketIo(client: Client, data: Buffer, now: number, sink: Sink): void {
  const packet = readSocketIoPacket(data.toString('latin1'))
  switch (packet.kind) {
    case 'open':
      client.ws.send('40')
      return
    case 'connected':
      client.ready = true
      return
    case 'ping':
      client.ws.send('3')
      return
    default:
      sink.record(client, packet, now)
  }
}

function newClient(ws: WebSocket, kind: ClientKind, user: number): Client {
  return {
    ws,
    kind,
    user,
    ready: false,
    lastSeq: -1,
    received: 0,
    pending: -1,
    pendingAt: 0,
    nextInvocation: 1,
    reader: kind === 'natsws' ? new NatsStreamReader() : undefined,
  }
}

/** Opens one client and resolves once it is ready (handshake answered, namespace joined, subscription synced). */
export async function openOne(url: string, kind: ClientKind, user: number, sink: Sink): Promise<Client> {
  if (kind === 'signalr') {
    const { ws, rest } = await openSignalR(url)
    const client = newClient(ws, kind, user)
    client.ready = true
    ws.on('error', () => undefined)
    ws.on('message', (data: Buffer) => onData(client, data, sink))
    if (rest.length > 0) onData(client, rest, sink)
    return client
  }
  // Socket.IO and NATS speak first (open packet, INFO), and are ready at their own records.
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: CONNECT_TIMEOUT_MS })
    const client = newClient(ws, kind, user)
    const timer = setTimeout(() => {
      ws.terminate()
      reject(new Error('handshake timeout'))
    }, CONNECT_TIMEOUT_MS)
    const onMessage = (data: Buffer): void => {
      onData(client, data, sink)
      if (!client.ready) return
      clearTimeout(timer)
      resolve(client)
      // From here on the hot path is onData alone.
      ws.off('message', onMessage)
      ws.on('message', (next: Buffer) => onData(client, next, sink))
    }
    ws.on('message', onMessage)
    ws.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    ws.on('close', () => {
      clearTimeout(timer)
      if (!client.ready) reject(new Error('closed before the handshake'))
    })
  })
}

/** `url` with `access_token` added to its query (after `?` or `&`). */
export function withToken(url: string, token: string | undefined): string {
  if (token === undefined) return url
  return `${url}${url.includes('?') ? '&' : '?'}access_token=${encodeURIComponent(token)}`
}

/** Closes a client's socket normally, or cuts it if the close does not complete within 5 s. */
export function closeClient(client: Client): Promise<void> {
  return new Promise((resolve) => {
    if (client.ws.readyState === client.ws.CLOSED) return resolve()
    const timer = setTimeout(() => {
      client.ws.terminate()
      resolve()
    }, 5000)
    client.ws.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
    client.ws.close(1000)
  })
}
