/**
 * The error texts a client sees in a Completion, produced in this one place. They are the
 * ASP.NET Core server's texts (DefaultHubDispatcher, ErrorMessageHelper), so existing frontends
 * that match on them keep working.
 */
import { ImError } from '../errors.js'
import type { BindingFailure } from './binding.js'

/**
 * The exception text of ASP.NET's protocol binders (JsonHubProtocol, MessagePackHubProtocol)
 * when an argument does not convert to its parameter's type.
 */
const BINDING_ERROR = 'InvalidDataException: Error binding arguments. Make sure that the types of the provided values match the types of the hub method being invoked.'

/** Which value failed and how; ours, after the binder's text (ASP.NET's shows the serializer's exception instead). */
function bindingDetail(failure: BindingFailure): string {
  const where = failure.path === '' ? '' : ` at '${failure.path}'`
  return ` Parameter '${failure.parameter}'${where} ${failure.message}.`
}

export const InvocationErrors = {
  methodDoesNotExist: (target: string) =>
    `Failed to invoke '${target}' due to an error on the server. HubException: Method does not exist.`,
  wrongArgumentCount: (target: string, given: number, expected: string, detailed: boolean) =>
    `Failed to invoke '${target}' due to an error on the server.` +
    (detailed ? ` InvalidDataException: Invocation provides ${given} argument(s) but target expects ${expected}.` : ''),
  /** An argument does not fit its parameter's declared type (DefaultHubDispatcher.ProcessInvocationBindingFailure). */
  invalidArgument: (target: string, failure: BindingFailure, detailed: boolean) =>
    `Failed to invoke '${target}' due to an error on the server.` + (detailed ? ` ${BINDING_ERROR}${bindingDetail(failure)}` : ''),
  /** A client-stream item does not fit the stream's item type (ProcessStreamBindingFailure); ends that stream. */
  invalidStreamItem: (failure: BindingFailure, detailed: boolean) =>
    'Failed to bind Stream message.' + (detailed ? ` ${BINDING_ERROR}${bindingDetail(failure)}` : ''),
  unauthorized: (target: string) => `Failed to invoke '${target}' because user is unauthorized`,
  nonStreamingWithStreamInvocation: (target: string) =>
    `The client attempted to invoke the non-streaming '${target}' method with a streaming invocation.`,
  streamingWithInvocation: (target: string) =>
    `The client attempted to invoke the streaming '${target}' method with a non-streaming invocation.`,
  rateLimited: (target: string, rate: number, burst: number) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: Too many invocations: at most ${rate} per second (bursts of ${burst}).`,
  flooding: (perSecond: number, forMs: number) =>
    `HubException: The client kept invoking faster than ${perSecond} per second for ${forMs / 1000} s.`,
  queueFull: (target: string, queued: number, parallel = 1) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: Too many invocations are waiting: at most ${queued} may queue behind the ${parallel === 1 ? 'one' : parallel} running.`,
  idInUse: (invocationId: string) => `Invocation ID '${invocationId}' is already in use.`,
  /** Worded after .NET's "Client sent <n> stream(s), Hub method expects <m>." */
  tooManyStreamsPerInvocation: (target: string, sent: number, max: number) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: Client sent ${sent} stream(s); at most ${max} are allowed per invocation.`,
  tooManyStreamsPerConnection: (target: string, open: number, sent: number, max: number) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: Too many client streams: at most ${max} may be open on a connection (${open} open, ${sent} more sent).`,
  streamIdInUse: (target: string, streamId: string) =>
    `An unexpected error occurred invoking '${target}' on the server. HubException: Stream ID '${streamId}' is already in use.`,
  /** The texts below end a client stream; its hub method sees them as a HubException. */
  streamItemsBeforeStart: (streamId: string, capacity: number) =>
    `Stream '${streamId}' was dropped: more than ${capacity} items arrived before the hub method started.`,
  streamBytesBeforeStart: (streamId: string, bytes: number) =>
    `Stream '${streamId}' was dropped: the connection's streams held more than ${bytes} bytes before the hub method started.`,
  streamNodeBytesBeforeStart: (streamId: string, bytes: number) =>
    `Stream '${streamId}' was dropped: the server's client streams held more than ${bytes} bytes before the hub method started.`,
  /** Close error: the reading was held for stream items and no hub method took any. */
  streamsStalled: (bytes: number, forMs: number) =>
    `HubException: The hub methods took none of the ${bytes} bytes of client stream items waiting for ${forMs / 1000} s.`,
  notAStream: (target: string) =>
    `The value returned by the streaming method '${target}' is not a ChannelReader<> or IAsyncEnumerable<>.`,
  /** A server stream failed after it had sent items. */
  streamFailed: (error: unknown, detailed: boolean) => {
    const prefix = 'An error occurred on the server while streaming results.'
    if (error instanceof ImError) return `${prefix} HubException: ${error.message}`
    if (detailed && error instanceof Error) return `${prefix} ${error.name}: ${error.message}`
    return prefix
  },
  /**
   * A hub method threw. Our own errors (ImError, HubException included) carry a message written
   * for the caller and are always shown; anything else only with detailed errors on.
   */
  threw: (target: string, error: unknown, detailed: boolean) => {
    const prefix = `An unexpected error occurred invoking '${target}' on the server.`
    if (error instanceof ImError) return `${prefix} HubException: ${error.message}`
    if (detailed && error instanceof Error) return `${prefix} ${error.name}: ${error.message}`
    return prefix
  },
} as const
