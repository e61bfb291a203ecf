/**
 * The one flush point of everything the server writes to its clients, whatever the transport.
 * A transport hands its bytes over at once (a WebSocket frame, a Server-Sent Event, a long poll's
 * queue), but they leave together at the end of the current tick (process.nextTick, once the
 * turn's synchronous work and the promises it settles are done): one system call per socket
 * however many messages a broadcast or a burst gave it. Without this every frame costs its own
 * writev: the profile of a 1,000-connection broadcast spent 60% of the node's time there.
 *
 * Order: a transport's writes leave in the order they were handed over (the socket's own buffer,
 * or the long poll's queue), and each transport writes from one place, so what one connection
 * sends reaches its client in the order it was sent.
 *
 * The server creates one ClientWrites and every transport it builds shares it; nothing here is
 * module state, so two servers in one process (the tests run several) never share a flush.
 */
import { webSocketFrame } from './websocket-frame.js'

/** A transport with writes held until the flush point. */
export interface HeldWrites {
  /** Called once at the flush point after `hold` returned true: let the held writes go. */
  releaseWrites(): void
}

export class ClientWrites {
  readonly #held = new Set<HeldWrites>()
  #scheduled = false
  /** The last WebSocket frame built, and what it carries (see `frame`). */
  #lastData: string | Uint8Array | undefined
  #lastBinary = false
  #lastFrame: Buffer | undefined

  /**
   * Asks for `writer.releaseWrites()` at the flush point. True the first time in a tick (the
   * caller then holds its writes, e.g. corks its socket); false when it is already held.
   */
  hold(writer: HeldWrites): boolean {
    if (this.#held.has(writer)) return false
    this.#held.add(writer)
    if (!this.#scheduled) {
      this.#scheduled = true
      process.nextTick(() => this.flush())
    }
    return true
  }

  /** The flush point: every held transport writes what it was given. Runs by itself at the end of the tick. */
  flush(): void {
    this.#scheduled = false
    for (const writer of this.#held) writer.releaseWrites()
    this.#held.clear()
  }

  /**
   * The WebSocket data frame carrying `data`; the same Buffer for the same payload asked again (it
   * must not be modified). A broadcast hands the same serialized message to every socket in a
   * row: the first one builds the frame (header and payload in one buffer), the next ones reuse
   * it, so a broadcast to N sockets is one encoding and N writes of the same bytes. Only the last
   * frame is kept: it is what a broadcast needs, and it costs at most one message of memory.
   */
  frame(data: string | Uint8Array, binary: boolean): Buffer {
    // A string is compared by content, a byte array by identity (serialized payloads are never reused for other bytes).
    if (data === this.#lastData && binary === this.#lastBinary && this.#lastFrame) return this.#lastFrame
    this.#lastFrame = webSocketFrame(data, binary)
    this.#lastData = data
    this.#lastBinary = binary
    return this.#lastFrame
  }
}
