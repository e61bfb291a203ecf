/**
 * Client results (SignalR's InvokeAsync on one client): the server sends an Invocation with an id
 * and waits for the client's Completion. Services ask through a NATS request to
 * `im.<hub>.invoke.client`; the node whose tag starts the connection id answers, so the service
 * never needs to know where the connection is, and IMService never blocks on the answer.
 */
import type { Bus, BusMessage } from '../bus/bus.js'
import type { HubConnection } from '../connection/hub-connection.js'
import type { Logger } from '../logger.js'
import { MessageType } from '../protocol/messages.js'
import type { CompletionMessage } from '../protocol/messages.js'
import { stringifyWireValue } from '../protocol/wire-json.js'
import { fieldsOf, methodNameProblem } from './service-message.js'

/** What a requesting service gets back: exactly one of `result` or `error`, with a code for errors. */
export type ClientResultReply =
  | { readonly result: unknown }
  | { readonly error: string; readonly code: 'not_connected' | 'timeout' | 'client_error' | 'invalid_request' }

export interface ClientResultsOptions {
  readonly bus: Bus
  /** `im.<hub>.invoke.client` */
  readonly subject: string
  /** This node's tag: the requests for connection ids that start with it are ours. */
  readonly nodeTag: string
  readonly find: (connectionId: string) => HubConnection | undefined
  readonly defaultTimeoutMs: number
  readonly maxTimeoutMs: number
  readonly logger: Logger
}

interface Pending {
  readonly connection: HubConnection
  readonly resolve: (reply: ClientResultReply) => void
  readonly timer: NodeJS.Timeout
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ClientResults {
  private readonly pending = new Map<string, Pending>()
  private counter = 0

  constructor(private readonly options: ClientResultsOptions) {}

  start(): void {
    this.options.bus.subscribe(this.options.subject, (message) => void this.serve(message))
  }

  /** Asks `connection` to run `method` and resolves with its answer; never rejects. */
  invoke(connection: HubConnection, method: string, args: readonly unknown[], timeoutMs: number): Promise<ClientResultReply> {
    // "s" + counter, as ASP.NET Core does, so the id can never clash with the client's own ids.
    const invocationId = `s${++this.counter}`
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(invocationId, { error: `The client did not answer within ${timeoutMs} ms.`, code: 'timeout' }), timeoutMs)
      this.pending.set(invocationId, { connection, resolve, timer })
      connection.send({ type: MessageType.Invocation, invocationId, target: method, arguments: args as unknown[] })
    })
  }

  /** Takes a client's Completion if it answers one of our invocations. */
  complete(connection: HubConnection, message: CompletionMessage): boolean {
    const pending = this.pending.get(message.invocationId)
    if (!pending || pending.connection !== connection) return false
    this.settle(
      message.invocationId,
      message.error !== undefined ? { error: message.error, code: 'client_error' } : { result: message.result ?? null },
    )
    return true
  }

  /** Fails what the connection still owes. */
  connectionEnded(connection: HubConnection): void {
    for (const [id, pending] of this.pending) {
      if (pending.connection === connection) this.settle(id, { error: `Connection '${connection.connectionId}' disconnected.`, code: 'not_connected' })
    }
  }

  private settle(invocationId: string, reply: ClientResultReply): void {
    const pending = this.pending.get(invocationId)
    if (!pending) return
    this.pending.delete(invocationId)
    clearTimeout(pending.timer)
    pending.resolve(reply)
  }

  private async serve(message: BusMessage): Promise<void> {
    let request: { connectionId: string; method: string; args: unknown[]; timeoutMs: number }
    try {
      request = this.read(message.data)
    } catch (error) {
      return this.reply(message, { error: `Invalid request: ${(error as Error).message}`, code: 'invalid_request' })
    }
    // Another node's connection: that node answers.
    if (!request.connectionId.startsWith(this.options.nodeTag)) return
    const connection = this.options.find(request.connectionId)
    const reply = connection
      ? await this.invoke(connection, request.method, request.args, request.timeoutMs)
      : ({ error: `Connection '${request.connectionId}' is not connected.`, code: 'not_connected' } as const)
    this.reply(message, reply)
  }

  private read(data: Uint8Array): { connectionId: string; method: string; args: unknown[]; timeoutMs: number } {
    const fields = fieldsOf(JSON.parse(decoder.decode(data)))
    const connectionId = fields.get('connectionid')
    const method = fields.get('method')
    const args = fields.get('args') ?? []
    const timeoutMs = fields.get('timeoutms') ?? this.options.defaultTimeoutMs
    if (typeof connectionId !== 'string' || connectionId === '') throw new Error('"connectionId" must be a non-empty string')
    const methodProblem = methodNameProblem(method)
    if (methodProblem) throw new Error(methodProblem)
    if (!Array.isArray(args)) throw new Error('"args" must be an array')
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > this.options.maxTimeoutMs) {
      throw new Error(`"timeoutMs" must be a number from 1 to ${this.options.maxTimeoutMs}`)
    }
    return { connectionId, method: method as string, args, timeoutMs }
  }

  /** A MessagePack client's bytes and dates reach the service in .NET's JSON forms, base64 and ISO 8601. */
  private reply(message: BusMessage, reply: ClientResultReply): void {
    if (!message.reply) return
    let text: string | undefined
    try {
      text = stringifyWireValue(reply)
    } catch (error) {
      text = JSON.stringify({ error: `The client's result cannot be sent as JSON: ${(error as Error).message}`, code: 'client_error' } satisfies ClientResultReply)
    }
    this.options.bus
      .publish(message.reply, encoder.encode(text))
      .catch((error: unknown) => this.options.logger.warn('client result reply not sent', { subject: this.options.subject, error }))
  }
}
