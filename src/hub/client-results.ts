/**
 * Client results (SignalR's InvokeAsync on one client): the server sends an Invocation with an id
 * and waits for the client's Completion. Two askers share this machinery:
 * - hub code, `this.clients.client(id).invoke(...)` (invoke below): a connection this node holds
 *   is asked at once; any other through the NATS request that services use;
 * - services, through a NATS request to `im.<hub>.invoke.client`: the node holding the connection
 *   answers (or, when none does, the node whose tag starts the connection id), so the asker never
 *   needs to know where the connection is, and IMService never blocks on the answer.
 */
import type { Bus, BusMessage } from '../bus/bus.js'
import type { HubConnection } from '../connection/hub-connection.js'
import { HubException, ImError, ImErrorCode, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import { MessageType } from '../protocol/messages.js'
import type { CompletionMessage } from '../protocol/messages.js'
import { stringifyWireValue } from '../protocol/wire-json.js'
import type { ClientInvoker, InvokeOptions } from './clients.js'
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
  /**
   * True when this node negotiated the connection and another node opened it (no sticky
   * sessions): that node answers for it, so this one must not say it is not connected.
   */
  readonly handedOver: (connectionId: string) => boolean
  /** When neither hub code nor the service names a timeout. */
  readonly clientResultTimeoutMs: number
  readonly maxTimeoutMs: number
  /** What the other node's answer may take beyond the client's own time (`hubs.relayMarginMs`). */
  readonly relayMarginMs: number
  readonly logger: Logger
}

interface Pending {
  readonly connection: HubConnection
  readonly resolve: (reply: ClientResultReply) => void
  readonly timer: NodeJS.Timeout
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ClientResults implements ClientInvoker {
  private readonly pending = new Map<string, Pending>()
  private counter = 0

  constructor(private readonly options: ClientResultsOptions) {}

  start(): void {
    this.options.bus.subscribe(this.options.subject, (message) => void this.serve(message))
  }

  /**
   * Hub code's ask: resolves with the client's result or rejects with a HubException (the
   * client's error), IM_CLIENT_NOT_CONNECTED, IM_CLIENT_RESULT_TIMEOUT, the signal's reason, or
   * the bus's error when the node holding the connection cannot be reached.
   */
  async invoke(connectionId: string, method: string, args: readonly unknown[], options: InvokeOptions): Promise<unknown> {
    const timeoutMs = options.timeoutMs ?? this.options.clientResultTimeoutMs
    if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > this.options.maxTimeoutMs) {
      throw new ImError(ImErrorCode.InvalidPayload, `invoke: timeoutMs must be an integer from 1 to ${this.options.maxTimeoutMs}, not ${timeoutMs}`)
    }
    const problem = methodNameProblem(method)
    if (problem) throw new ImError(ImErrorCode.InvalidPayload, `invoke: ${problem}`)
    options.signal?.throwIfAborted()
    const connection = this.options.find(connectionId)
    const reply = connection
      ? await this.askHere(connection, method, args, timeoutMs, options.signal)
      : await this.askElsewhere(connectionId, method, args, timeoutMs, options.signal)
    if ('result' in reply) return reply.result
    throw toError(reply, connectionId, method, timeoutMs)
  }

  /** Asks `connection` to run `method` and resolves with its answer; never rejects. */
  ask(connection: HubConnection, method: string, args: readonly unknown[], timeoutMs: number): Promise<ClientResultReply> {
    return this.begin(connection, method, args, timeoutMs).reply
  }

  private begin(connection: HubConnection, method: string, args: readonly unknown[], timeoutMs: number): { id: string; reply: Promise<ClientResultReply> } {
    // "s" + counter, as ASP.NET Core does, so the id can never clash with the client's own ids.
    const invocationId = `s${++this.counter}`
    const reply = new Promise<ClientResultReply>((resolve) => {
      if (!connection.isConnected) return resolve({ error: `Connection '${connection.connectionId}' is not connected.`, code: 'not_connected' })
      const timer = setTimeout(() => this.settle(invocationId, { error: `The client did not answer within ${timeoutMs} ms.`, code: 'timeout' }), timeoutMs)
      this.pending.set(invocationId, { connection, resolve, timer })
      try {
        connection.send({ type: MessageType.Invocation, invocationId, target: method, arguments: args as unknown[] })
      } catch (error) {
        // The arguments cannot be serialized (a BigInt, a cycle): nothing was sent.
        this.settle(invocationId, { error: `The arguments could not be serialized: ${messageOf(error)}`, code: 'invalid_request' })
      }
    })
    return { id: invocationId, reply }
  }

  private askHere(connection: HubConnection, method: string, args: readonly unknown[], timeoutMs: number, signal: AbortSignal | undefined): Promise<ClientResultReply> {
    const { id, reply } = this.begin(connection, method, args, timeoutMs)
    if (!signal) return reply
    return untilAborted(reply, signal, () => this.forgetPending(id))
  }

  private async askElsewhere(connectionId: string, method: string, args: readonly unknown[], timeoutMs: number, signal: AbortSignal | undefined): Promise<ClientResultReply> {
    let data: Uint8Array
    try {
      data = encoder.encode(stringifyWireValue({ connectionId, method, args, timeoutMs }))
    } catch (error) {
      return { error: `The arguments could not be serialized: ${messageOf(error)}`, code: 'invalid_request' }
    }
    const request = this.options.bus.request(this.options.subject, data, timeoutMs + this.options.relayMarginMs).then((answer) => readReply(answer))
    // Nobody else waits for the answer: an abandoned request is only dropped when it comes.
    return signal ? untilAborted(request, signal, () => {}) : request
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

  /** Invocations still waiting for a client (for tests and metrics). */
  get waiting(): number {
    return this.pending.size
  }

  private settle(invocationId: string, reply: ClientResultReply): void {
    const pending = this.forgetPending(invocationId)
    pending?.resolve(reply)
  }

  /** A late Completion for a forgotten id is not ours any more, and is ignored. */
  private forgetPending(invocationId: string): Pending | undefined {
    const pending = this.pending.get(invocationId)
    if (!pending) return undefined
    this.pending.delete(invocationId)
    clearTimeout(pending.timer)
    return pending
  }

  private async serve(message: BusMessage): Promise<void> {
    let request: { connectionId: string; method: string; args: unknown[]; timeoutMs: number }
    try {
      request = this.read(message.data)
    } catch (error) {
      return this.reply(message, { error: `Invalid request: ${(error as Error).message}`, code: 'invalid_request' })
    }
    // The node holding the connection answers, whichever node's tag its id carries (a connection
    // negotiated on one node may be opened on another). Otherwise the node whose tag it carries
    // says it is not connected, unless it handed the connection over to the node that answers.
    const connection = this.options.find(request.connectionId)
    if (connection) return this.reply(message, await this.ask(connection, request.method, request.args, request.timeoutMs))
    if (!request.connectionId.startsWith(this.options.nodeTag) || this.options.handedOver(request.connectionId)) return
    this.reply(message, { error: `Connection '${request.connectionId}' is not connected.`, code: 'not_connected' })
  }

  private read(data: Uint8Array): { connectionId: string; method: string; args: unknown[]; timeoutMs: number } {
    const fields = fieldsOf(JSON.parse(decoder.decode(data)))
    const connectionId = fields.get('connectionid')
    const method = fields.get('method')
    const args = fields.get('args') ?? []
    const timeoutMs = fields.get('timeoutms') ?? this.options.clientResultTimeoutMs
    if (typeof connectionId !== 'string' || connectionId === '') throw new ImError(ImErrorCode.InvalidPayload, '"connectionId" must be a non-empty string')
    const methodProblem = methodNameProblem(method)
    if (methodProblem) throw new ImError(ImErrorCode.InvalidPayload, methodProblem)
    if (!Array.isArray(args)) throw new ImError(ImErrorCode.InvalidPayload, '"args" must be an array')
    if (typeof timeoutMs !== 'number' || !(timeoutMs > 0) || timeoutMs > this.options.maxTimeoutMs) {
      throw new ImError(ImErrorCode.InvalidPayload, `"timeoutMs" must be a number from 1 to ${this.options.maxTimeoutMs}`)
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

/** The reply as another node sent it; anything else is the bus's fault, not the client's. */
function readReply(data: Uint8Array): ClientResultReply {
  let reply: unknown
  try {
    reply = JSON.parse(decoder.decode(data))
  } catch {
    reply = undefined
  }
  if (typeof reply === 'object' && reply !== null) {
    if ('result' in reply) return reply as ClientResultReply
    if ('error' in reply && typeof reply.error === 'string' && 'code' in reply) return reply as ClientResultReply
  }
  throw new ImError(ImErrorCode.InvalidPayload, 'the node holding the connection sent an answer that is not a client result')
}

function toError(reply: Exclude<ClientResultReply, { result: unknown }>, connectionId: string, method: string, timeoutMs: number): Error {
  switch (reply.code) {
    // As ASP.NET Core: the client's own error text, as a HubException.
    case 'client_error':
      return new HubException(reply.error)
    case 'not_connected':
      return new ImError(ImErrorCode.ClientNotConnected, reply.error)
    case 'timeout':
      return new ImError(ImErrorCode.ClientResultTimeout, `Connection '${connectionId}' did not answer '${method}' within ${timeoutMs} ms.`)
    default:
      return new ImError(ImErrorCode.InvalidPayload, `invoke '${method}': ${reply.error}`)
  }
}

/** `promise`, or the signal's reason once it aborts first (after `abandon`). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal, abandon: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      abandon()
      reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}
