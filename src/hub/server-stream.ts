/**
 * Runs one server-to-client stream (HubProtocol.md, Streaming): each item the hub method yields
 * goes out as a StreamItem, then a Completion ends the stream, with an error if it failed. A
 * CancelInvocation or a disconnect aborts `signal`; the iterator is then closed (its `finally`
 * blocks run) and a plain Completion is still sent, which the client ignores, as ASP.NET Core does.
 */
import type { HubConnection } from '../connection/hub-connection.js'
import { MessageType } from '../protocol/messages.js'
import { InvocationErrors } from './invocation-errors.js'

export interface ServerStreamOptions {
  readonly connection: HubConnection
  readonly invocationId: string
  readonly target: string
  readonly detailedErrors: boolean
  readonly signal: AbortSignal
  /** The method's own authorization check, run before it starts. */
  readonly allowed?: () => Promise<boolean>
}

export async function runServerStream(options: ServerStreamOptions, produce: () => unknown): Promise<void> {
  const { connection, invocationId, target, detailedErrors, signal } = options
  const complete = (error?: string): void =>
    connection.send({ type: MessageType.Completion, invocationId, ...(error === undefined ? {} : { error }) })

  if (options.allowed && !(await options.allowed())) return complete(InvocationErrors.unauthorized(target))
  let iterable: unknown
  try {
    iterable = await produce()
  } catch (error) {
    return complete(InvocationErrors.threw(target, error, detailedErrors))
  }
  if (!isAsyncIterable(iterable)) return complete(InvocationErrors.notAStream(target))

  const iterator = iterable[Symbol.asyncIterator]()
  const stop = (): void => void iterator.return?.().catch(() => {})
  signal.addEventListener('abort', stop, { once: true })
  let sent = 0
  try {
    for (;;) {
      const next = await iterator.next()
      if (next.done || signal.aborted) break
      connection.send({ type: MessageType.StreamItem, invocationId, item: next.value })
      sent++
    }
    complete()
  } catch (error) {
    if (signal.aborted) return complete()
    // Before the first item the method failed to start; after it, the stream broke.
    complete(sent === 0 ? InvocationErrors.threw(target, error, detailedErrors) : InvocationErrors.streamFailed(error, detailedErrors))
  } finally {
    signal.removeEventListener('abort', stop)
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function'
}
