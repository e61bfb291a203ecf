/**
 * The reading side of an HTTP transport (long polling, Server-Sent Events), whose client sends
 * with POSTs. POST bodies of one connection are read one at a time, and none while the connection
 * holds back reading (its stream buffers are full): an unread body waits in the kernel and in
 * the client, whose send queue posts one body at a time and waits for the answer. So a connection
 * keeps at most one body in memory, whatever the client sends.
 */
export class ReceiveGate {
  private held = false
  private busy = false
  private isClosed = false
  private readonly waiting: Array<(open: boolean) => void> = []

  /** Waits for this POST's turn; false when the transport closed meanwhile (read nothing then). */
  enter(): Promise<boolean> {
    if (this.isClosed) return Promise.resolve(false)
    if (!this.busy && !this.held && this.waiting.length === 0) {
      this.busy = true
      return Promise.resolve(true)
    }
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** The POST that entered has handed its body on. */
  leave(): void {
    this.busy = false
    this.next()
  }

  hold(held: boolean): void {
    this.held = held
    this.next()
  }

  /** The transport has ended: waiting POSTs are let go without reading. */
  close(): void {
    this.isClosed = true
    for (const resolve of this.waiting.splice(0)) resolve(false)
  }

  private next(): void {
    if (this.busy || this.held) return
    const resolve = this.waiting.shift()
    if (!resolve) return
    this.busy = true
    resolve(true)
  }
}
