/**
 * A HubConnection with nothing real around it: a transport that records what the client would
 * read and lets a test deliver what the client sends or drop the link, a handler that records
 * what the hub would hear, and a clock the test moves. No sockets, no NATS, no timers.
 */
import { HubConnection } from '../../../src/connection/hub-connection.js'
import type { ConnectionSettings, HubConnectionOptions } from '../../../src/connection/hub-connection.js'
import type { DispatchedMessage, InvocationHandler } from '../../../src/connection/invocation-handler.js'
import { silentLogger } from '../../../src/logger.js'
import { JsonHubProtocol } from '../../../src/protocol/json-hub-protocol.js'
import { MessagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'
import { MessageType } from '../../../src/protocol/messages.js'
import type { HubMessage } from '../../../src/protocol/messages.js'
import type { ServerTransport, TransportName } from '../../../src/transports/transport.js'

export const RS = '\u001e'
export const T0 = 1_700_000_000_000
const json = new JsonHubProtocol()

export class FakeTransport implements ServerTransport {
  readonly supportsBinary: boolean
  bufferedBytes = 0
  bufferedMessages: number | undefined = undefined
  /** Every frame handed to the transport, in order, with whether it went as a binary frame. */
  readonly sent: Array<{ data: string | Uint8Array; binary: boolean }> = []
  /** Each close() call, with its options. */
  readonly closes: Array<{ goingAway?: boolean }> = []
  /** Each holdReceiving() call. */
  readonly holds: boolean[] = []
  readonly closed = Promise.resolve()
  onMessage: ((data: string | Uint8Array) => void) | undefined
  onClose: ((error?: Error) => void) | undefined

  constructor(readonly name: TransportName = 'WebSockets', options: { binary?: boolean } = {}) {
    this.supportsBinary = options.binary ?? name !== 'ServerSentEvents'
  }

  send(data: string | Uint8Array, binary: boolean): void {
    this.sent.push({ data, binary })
  }

  close(options?: { readonly goingAway?: boolean }): void {
    this.closes.push({ ...options })
  }

  holdReceiving(held: boolean): void {
    this.holds.push(held)
  }

  /** The client sends `data`. */
  deliver(data: string | Uint8Array): void {
    this.onMessage?.(data)
  }

  /** The client sends hub messages as JSON frames, in one transport message. */
  deliverMessages(...messages: HubMessage[]): void {
    this.deliver(messages.map((m) => json.writeMessage(m) as string).join(''))
  }

  /** The link ends: with an error it was lost, without one the client closed it cleanly. */
  end(error?: Error): void {
    this.onClose?.(error)
  }

  /** The text frames sent, as the JSON client would parse them (the handshake reply left out). */
  messages(): HubMessage[] {
    return this.sent
      .filter((f) => typeof f.data === 'string' && f.data !== `{}${RS}` && !f.data.startsWith('{"error"'))
      .flatMap((f) => json.parseMessages(f.data as string).messages)
  }
}

export type HandlerEvent =
  | { readonly kind: 'connected' }
  | { readonly kind: 'message'; readonly message: DispatchedMessage; readonly size: number }
  | { readonly kind: 'disconnected'; readonly error: string | undefined }
  | { readonly kind: 'moved-here'; readonly groups: readonly string[] }
  | { readonly kind: 'moved-away' }

export interface Harness {
  readonly connection: HubConnection
  readonly transport: FakeTransport
  /** What the hub heard, in order. */
  readonly events: HandlerEvent[]
  /** How often onEnded was called. */
  readonly ended: () => number
  readonly counters: { slowConsumers: number; invalidData: number }
  /** The clock the connection reads; tests move it. */
  readonly clock: { now: number }
  readonly settings: ConnectionSettings
}

export interface HarnessOptions extends Partial<Omit<HubConnectionOptions, 'settings' | 'transport'>> {
  readonly transport?: FakeTransport
  readonly maxBuffered?: { bytes: number; messages: number }
  readonly statefulReconnectBufferSize?: number
  readonly clock?: { now: number }
}

export function harness(options: HarnessOptions = {}): Harness {
  const events: HandlerEvent[] = []
  const counters = { slowConsumers: 0, invalidData: 0 }
  const clock = options.clock ?? { now: T0 }
  let endedCount = 0
  const handler: InvocationHandler = {
    onConnected: () => void events.push({ kind: 'connected' }),
    onMessage: (_c, message, size) => void events.push({ kind: 'message', message, size }),
    onDisconnected: (_c, error) => void events.push({ kind: 'disconnected', error: error?.message }),
    onMovedHere: (_c, groups) => void events.push({ kind: 'moved-here', groups }),
    settleForMove: async () => [],
    onMovedAway: () => void events.push({ kind: 'moved-away' }),
  }
  const settings: ConnectionSettings = {
    protocols: new Map<string, JsonHubProtocol | MessagePackHubProtocol>([
      ['json', json],
      ['messagepack', new MessagePackHubProtocol()],
    ]),
    handler,
    maximumReceiveMessageSize: 32 * 1024,
    maxBuffered: options.maxBuffered ?? { bytes: 1000, messages: 100 },
    logger: silentLogger,
    onSlowConsumer: () => counters.slowConsumers++,
    onInvalidData: () => counters.invalidData++,
    statefulReconnectBufferSize: options.statefulReconnectBufferSize ?? 10_000,
    onEnded: () => void endedCount++,
    clock: () => clock.now,
  }
  const transport = options.transport ?? new FakeTransport()
  const connection = new HubConnection({ connectionId: 'connection-1', principal: { userId: 'alice', claims: {} }, ...options, transport, settings })
  return { connection, transport, events, ended: () => endedCount, counters, clock, settings }
}

/** A connection past its JSON handshake (version 2 when stateful), with the reply cleared from `sent`. */
export function openHarness(options: HarnessOptions = {}): Harness {
  const h = harness(options)
  h.transport.deliver(`{"protocol":"json","version":${options.stateful ? 2 : 1}}${RS}`)
  h.transport.sent.length = 0
  h.events.length = 0
  return h
}

/** An Invocation of `target` with `args`, blocking when it has an id. */
export function invocation(target: string, args: unknown[] = [], invocationId?: string): HubMessage {
  return { type: MessageType.Invocation, target, arguments: args, ...(invocationId === undefined ? {} : { invocationId }) }
}
