/**
 * The official @microsoft/signalr client, as a frontend would use it, plus small helpers to wait
 * for what it receives. Every wait is bounded.
 */
import * as signalR from '@microsoft/signalr'
import WebSocket from 'ws'
import type { ClientOptions as WebSocketOptions } from 'ws'
import { Recorder, withTimeout } from './recorder.js'

export { withTimeout }

export interface ClientOptions {
  readonly accessToken?: string
  readonly skipNegotiation?: boolean
  readonly reconnect?: boolean
  /** Transports the client may use; WebSockets only by default. */
  readonly transport?: signalR.HttpTransportType
  readonly protocol?: signalR.IHubProtocol
  /** Replacements for the client's WebSocket / EventSource constructors (to break them on purpose). */
  readonly WebSocket?: unknown
  readonly EventSource?: unknown
}

export type TestClient = signalR.HubConnection & AsyncDisposable

export async function connectClient(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const connection = buildClient(url, options)
  await connection.start()
  return connection
}

export function buildClient(url: string, options: ClientOptions = {}): TestClient {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(url, {
      transport: options.transport ?? signalR.HttpTransportType.WebSockets,
      skipNegotiation: options.skipNegotiation ?? false,
      ...(options.accessToken !== undefined ? { accessTokenFactory: () => options.accessToken! } : {}),
      ...(options.WebSocket !== undefined ? { WebSocket: options.WebSocket } : {}),
      ...(options.EventSource !== undefined ? { EventSource: options.EventSource } : {}),
    })
    .configureLogging(signalR.LogLevel.None)
  if (options.protocol) builder = builder.withHubProtocol(options.protocol)
  if (options.reconnect) builder = builder.withAutomaticReconnect([0, 100, 200, 500, 1000, 1000, 1000])
  const connection = builder.build()
  return Object.assign(connection, { [Symbol.asyncDispose]: () => connection.stop() })
}

/** Records the calls of one client method (their arguments); `next()` waits for the next one. */
export class Inbox extends Recorder<unknown[]> {
  constructor(connection: signalR.HubConnection, method: string) {
    super(`a call of "${method}"`)
    connection.on(method, (...args: unknown[]) => this.record(args))
  }
}


/** Resolves with the error a connection closes with (undefined for a clean close). */
export function closed(connection: signalR.HubConnection, timeoutMs = 5000): Promise<Error | undefined> {
  return withTimeout(new Promise((resolve) => connection.onclose((error) => resolve(error))), timeoutMs, 'the connection to close')
}

/** A WebSocket class for the client that numbers its sockets in an `X-Attempt` header. */
export function numberedWebSocket(): new (url: string, protocols?: string | string[], options?: WebSocketOptions) => WebSocket {
  let attempts = 0
  return class NumberedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[], options?: WebSocketOptions) {
      super(url, protocols, { ...options, headers: { ...options?.headers, 'X-Attempt': String(++attempts) } })
    }
  }
}
