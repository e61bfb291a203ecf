/**
 * The client-to-server streams of one connection, and the bounds that keep what they buffer from
 * growing the server's memory:
 * - how many streams one invocation may open, and how many may be open on the connection (an
 *   invocation over either is refused and its stream ids are never registered);
 * - how many items one stream may hold (streamBufferCapacity), and how many bytes all the streams
 *   of the connection may hold together, each item counted by the size of the frame it came in.
 *
 * At a bound, the connection stops reading from its client until the running hub methods have
 * taken items (ASP.NET Core blocks its read loop on a full stream channel the same way): the
 * client's data waits in the kernel and in the client. A stream whose method still waits in the
 * invocation queue cannot drain, so it never holds the reading back: it is dropped with an error
 * instead, which its method sees when it runs. If the reading stays held for `stallMs` without the
 * hub methods taking anything, the connection is closed.
 *
 * The node bounds the bytes of all its connections' streams too (StreamBufferPool): while that
 * bound is passed, a connection that still holds items is not read until its methods have taken
 * them all, so each connection adds at most one read to the node's total, and every connection
 * goes on at the pace its methods take items.
 */
import { ClientStream } from './client-stream.js'
import type { StreamOwner } from './client-stream.js'
import { InvocationErrors } from './invocation-errors.js'

export interface ClientStreamLimits {
  /** Stream ids one invocation may carry. */
  readonly maxStreamsPerInvocation: number
  /** Streams that may be open at once on one connection, queued invocations' included. */
  readonly maxClientStreamsPerConnection: number
  /** Items one stream may hold before the reading stops. */
  readonly streamBufferCapacity: number
  /** Bytes all the streams of one connection may hold together. */
  readonly maxStreamBufferBytes: number
  /** How long the reading may stay held without the hub methods taking an item. */
  readonly stallMs: number
  /** Whether a refused item's error names the parameter and path (enableDetailedErrors). */
  readonly detailedErrors?: boolean
}

/** What the streams ask of their connection. */
export interface ReceiveControl {
  /** Stop (true) or resume (false) reading from the client. */
  hold(held: boolean): void
  /** The reading has been held for `stallMs` and no hub method took an item: end the connection. */
  stalled(): void
  /** A stream of a method that had not started was dropped at a bound (for metrics). */
  dropped(): void
  /** An item did not fit the stream's declared item type; the stream was ended with an error (for metrics). */
  invalidItem?(): void
}

/** The bytes held by the client streams of every connection of a node, and their bound. */
export class StreamBufferPool {
  bytes = 0
  constructor(readonly limit: number) {}

  get over(): boolean {
    return this.bytes > this.limit
  }
}

export class ClientStreams implements StreamOwner {
  private readonly streams = new Map<string, ClientStream>()
  private bytes = 0
  private held = false
  private lastTakenAt = 0
  private stallTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly limits: ClientStreamLimits,
    private readonly receiving: ReceiveControl,
    private readonly pool: StreamBufferPool,
  ) {}

  /** Bytes held by all the streams. */
  get bufferedBytes(): number {
    return this.bytes
  }

  /** Streams open (registered until their invocation ends). */
  get open(): number {
    return this.streams.size
  }

  get isHolding(): boolean {
    return this.held
  }

  /**
   * Registers the streams of an invocation of `target`, or returns the Completion error that
   * refuses it (nothing is registered then).
   */
  register(ids: readonly string[], target: string): ClientStream[] | string {
    if (ids.length === 0) return []
    const { maxStreamsPerInvocation, maxClientStreamsPerConnection } = this.limits
    if (ids.length > maxStreamsPerInvocation) return InvocationErrors.tooManyStreamsPerInvocation(target, ids.length, maxStreamsPerInvocation)
    if (this.streams.size + ids.length > maxClientStreamsPerConnection) return InvocationErrors.tooManyStreamsPerConnection(target, this.streams.size, ids.length, maxClientStreamsPerConnection)
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!
      if (this.streams.has(id) || ids.indexOf(id) !== i) return InvocationErrors.streamIdInUse(target, id)
    }
    return ids.map((id) => {
      const stream = new ClientStream(id, this)
      this.streams.set(id, stream)
      return stream
    })
  }

  /** Their hub method has started: from now on their items drain, and a full one holds the reading. */
  start(streams: readonly ClientStream[]): void {
    for (const stream of streams) stream.running = true
  }

  /** Their invocation has ended: the ids are free again and whatever is unread is dropped. */
  close(streams: readonly ClientStream[]): void {
    if (streams.length === 0) return
    for (const stream of streams) {
      if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id)
      this.release(stream.bytes)
      stream.discard()
    }
    if (this.held) this.settle(undefined)
  }

  /**
   * A StreamItem. Items for an id that is not open (never registered, refused, or its invocation
   * ended) or whose stream has ended are dropped, as ASP.NET Core ignores unknown stream ids.
   */
  item(id: string, item: unknown, size: number): void {
    const stream = this.streams.get(id)
    if (stream === undefined || stream.ended) return
    const bound = stream.bindItem?.(item)
    if (bound?.failure) {
      // As ASP.NET completes a stream whose item failed to bind: the method sees the error.
      this.release(stream.bytes)
      stream.fail(InvocationErrors.invalidStreamItem(bound.failure, this.limits.detailedErrors === true))
      this.receiving.invalidItem?.()
      if (this.held) this.settle(undefined)
      return
    }
    stream.push(bound ? bound.value : item, size)
    this.bytes += size
    this.pool.bytes += size
    if (!stream.running && stream.count > this.limits.streamBufferCapacity) {
      this.drop(stream, InvocationErrors.streamItemsBeforeStart(id, this.limits.streamBufferCapacity))
    }
    this.settle(stream)
  }

  /** The client's Completion of a stream: its method reads what is held, then the end (or the error). */
  complete(id: string, error?: string): boolean {
    const stream = this.streams.get(id)
    stream?.end(error)
    return stream !== undefined
  }

  taken(_stream: ClientStream, size: number): void {
    this.release(size)
    if (!this.held) return
    this.lastTakenAt = Date.now()
    this.settle(undefined)
  }

  /** The connection is gone: every stream fails, nothing is held any more. */
  end(): void {
    for (const stream of this.streams.values()) stream.fail('The connection closed.')
    this.streams.clear()
    this.release(this.bytes)
    this.held = false
    clearTimeout(this.stallTimer)
  }

  private release(bytes: number): void {
    this.bytes -= bytes
    this.pool.bytes -= bytes
  }

  private drop(stream: ClientStream, error: string): void {
    this.release(stream.bytes)
    stream.fail(error)
    this.receiving.dropped()
  }

  /** Holds or resumes the reading after `pushed` got an item (or after items were taken or dropped). */
  private settle(pushed: ClientStream | undefined): void {
    const { maxStreamBufferBytes, streamBufferCapacity } = this.limits
    const overConnection = this.bytes > maxStreamBufferBytes
    const overNode = this.pool.over
    if (overConnection || overNode) {
      // Only running methods free the buffer. A stream whose method waits would keep its bytes
      // while the reading is held, and the running methods may need what the client sent after it.
      const error = overConnection ? InvocationErrors.streamBytesBeforeStart : InvocationErrors.streamNodeBytesBeforeStart
      const limit = overConnection ? maxStreamBufferBytes : this.pool.limit
      for (const stream of this.streams.values()) {
        if (!stream.running && stream.bytes > 0) this.drop(stream, error(stream.id, limit))
      }
    }
    const full =
      this.bytes > maxStreamBufferBytes ||
      (overNode && this.bytes > 0) ||
      (pushed !== undefined && !this.held ? pushed.running && pushed.count >= streamBufferCapacity : this.anyRunningFull())
    if (full === this.held) return
    this.held = full
    this.receiving.hold(full)
    if (full) {
      this.lastTakenAt = Date.now()
      this.armStallTimer(this.limits.stallMs)
    } else {
      clearTimeout(this.stallTimer)
      this.stallTimer = undefined
    }
  }

  private anyRunningFull(): boolean {
    for (const stream of this.streams.values()) if (stream.running && stream.count >= this.limits.streamBufferCapacity) return true
    return false
  }

  /** One timer per held connection, re-armed for what is left when items were taken meanwhile. */
  private armStallTimer(ms: number): void {
    this.stallTimer = setTimeout(() => {
      if (!this.held) return
      const idle = Date.now() - this.lastTakenAt
      if (idle >= this.limits.stallMs) this.receiving.stalled()
      else this.armStallTimer(this.limits.stallMs - idle)
    }, ms)
    this.stallTimer.unref()
  }
}
