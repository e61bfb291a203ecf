/**
 * One client-to-server stream (`streamIds` in an Invocation; HubProtocol.md, Streaming), read by
 * the hub method as an AsyncIterable. It keeps the size of each item it holds, so that its
 * connection can bound the bytes of all its streams together (see ClientStreams), and tells its
 * owner each time the hub method takes an item, which frees that item's bytes.
 */
import { HubException } from '../errors.js'
import type { ValueBinder } from './binding.js'

/** The connection-wide bookkeeping a stream reports to. */
export interface StreamOwner {
  /** The hub method took an item of `size` from `stream`. */
  taken(stream: ClientStream, size: number): void
}

export class ClientStream implements AsyncIterable<unknown> {
  private items: unknown[] = []
  private sizes: number[] = []
  /** Bytes of the items held, by the size of the frames they came in. */
  bytes = 0
  /** Checks (and revives) each item against the stream parameter's declared item type. */
  bindItem: ValueBinder | undefined
  /** Set once the hub method that owns this stream has started: only then can its items drain. */
  running = false
  private done = false
  private error: Error | undefined
  private wake: (() => void) | undefined

  constructor(
    readonly id: string,
    private readonly owner: StreamOwner,
  ) {}

  /** Items held, not yet taken by the hub method. */
  get count(): number {
    return this.items.length
  }

  /** True once the client completed the stream, or it failed or was closed: later items are dropped. */
  get ended(): boolean {
    return this.done
  }

  push(item: unknown, size: number): void {
    this.items.push(item)
    this.sizes.push(size)
    this.bytes += size
    this.wake?.()
  }

  /** Ends the stream; `error` (the client's text, or ours) surfaces in the hub method as a HubException. */
  end(error?: string): void {
    if (this.done) return
    this.done = true
    if (error !== undefined) this.error = new HubException(error)
    this.wake?.()
  }

  /**
   * Drops what is held (the caller releases `bytes` first) and ends with `error`, also after the
   * client completed it: the method must not take a cut-short stream for a whole one.
   */
  fail(error: string): void {
    this.error ??= new HubException(error)
    this.discard()
  }

  /** Forgets the items held; the stream reads as ended from now on. */
  discard(): void {
    this.items = []
    this.sizes = []
    this.bytes = 0
    this.done = true
    this.wake?.()
  }

  /** A stream passed on as an argument (DefaultHub's publish forwards its arguments) is written as null, not as its buffer. */
  toJSON(): null {
    return null
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    for (;;) {
      if (this.items.length > 0) {
        const item = this.items.shift()
        const size = this.sizes.shift()!
        this.bytes -= size
        this.owner.taken(this, size)
        yield item
        continue
      }
      if (this.done) {
        if (this.error) throw this.error
        return
      }
      await new Promise<void>((resolve) => (this.wake = resolve))
      this.wake = undefined
    }
  }
}
