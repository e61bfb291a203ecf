/**
 * `this.bus.watch()` of hub code. A watch is one reader of its subject's shared bus subscription
 * (WatchFanout) with a bounded buffer of its own, and holds one of its connection's watch slots.
 * It ends, freeing its slot (and, for the subject's last watcher, the subscription), when its
 * signal aborts, when its reader stops reading (a `return` out of for-await), or when the reader
 * falls so far behind that its buffer fills: then that watch alone fails.
 */
import { validateTopic } from '../bus/subjects.js'
import { ImError, ImErrorCode, isImError } from '../errors.js'
import type { WatchFanout } from '../lifetime/watch-fanout.js'
import type { Metrics } from '../metrics.js'
import { ItemStream } from './item-stream.js'

/** The watches one connection holds open (one object per connection, kept by its caller scope). */
export interface WatchSlots {
  held: number
}

export interface WatchStreamsOptions {
  readonly fanout: WatchFanout
  /** Watches one connection may hold open at once. */
  readonly maxWatchesPerConnection: number
  /** Payloads one watch may hold for a slow reader before it fails. */
  readonly bufferSize: number
  readonly metrics: Metrics
}

export class WatchStreams {
  constructor(private readonly options: WatchStreamsOptions) {}

  /**
   * The JSON payloads published on `subject` from now until `signal` aborts. `slots` are the
   * watches of the calling connection; without one (a subscription handler) no per-connection
   * bound applies. Throws IM_LIMIT_EXCEEDED past the connection's or the node's bound.
   */
  open(subject: string, signal: AbortSignal, slots: WatchSlots | undefined): AsyncIterable<unknown> {
    const problem = validateTopic(subject)
    if (problem) throw new ImError(ImErrorCode.InvalidTopic, `cannot watch "${subject}": ${problem}`)
    const { fanout, maxWatchesPerConnection, bufferSize, metrics } = this.options
    const stream = new ItemStream(bufferSize)
    if (signal.aborted) {
      stream.end()
      return stream
    }
    if (slots && slots.held >= maxWatchesPerConnection) {
      metrics.inc('watches_refused_connection_limit')
      throw new ImError(ImErrorCode.LimitExceeded, `Too many watches on this connection: at most ${maxWatchesPerConnection} may be open at once.`)
    }
    let open = true
    const close = (): void => {
      if (!open) return
      open = false
      if (slots) slots.held--
      signal.removeEventListener('abort', close)
      stream.end()
      removeWatcher()
    }
    let removeWatcher: () => void
    try {
      removeWatcher = fanout.add(subject, {
        deliver: (payload) => {
          stream.push(payload)
          if (!stream.ended) return
          // The reader is too far behind: its buffered payloads and then the error reach it.
          metrics.inc('watches_overflowed')
          close()
        },
      })
    } catch (error) {
      if (isImError(error, ImErrorCode.LimitExceeded)) metrics.inc('watches_refused_node_limit')
      throw error
    }
    if (slots) slots.held++
    signal.addEventListener('abort', close, { once: true })
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* stream
        } finally {
          close()
        }
      },
    }
  }
}
