/**
 * A bounded stream of items pushed by one side and read as an AsyncIterable by the other: the
 * messages of a watched subject. `end(error)` finishes it, the error surfacing as a HubException.
 * A producer faster than the reader makes the stream fail rather than the server's memory grow.
 * (What a client streams to a hub method is a ClientStream, which slows its producer down instead.)
 */
import { HubException } from '../errors.js'

export class ItemStream<T = unknown> implements AsyncIterable<T> {
  private readonly items: T[] = []
  private done = false
  private error: Error | undefined
  private wake: (() => void) | undefined

  constructor(private readonly capacity: number) {}

  /** True once the stream ended: by `end`, or because its reader fell behind. */
  get ended(): boolean {
    return this.done
  }

  push(item: T): void {
    if (this.done) return
    if (this.items.length >= this.capacity) {
      this.end(`More than ${this.capacity} items were waiting to be read.`)
      return
    }
    this.items.push(item)
    this.wake?.()
  }

  /** Ends the stream; `error` is the client's error text, surfaced as a HubException. */
  end(error?: string): void {
    if (this.done) return
    this.done = true
    if (error !== undefined) this.error = new HubException(error)
    this.wake?.()
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.items.length > 0) {
        yield this.items.shift()!
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
