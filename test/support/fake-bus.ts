/**
 * An in-memory Bus for unit tests of what nodes say to each other, with no NATS and no clock.
 * Subjects match exactly (no wildcards). A request fails as NATS makes it fail:
 * - IM_BUS_NO_RESPONDERS when nobody subscribes to the subject (the node has stopped);
 * - IM_BUS_TIMEOUT when the subject is `silent` (the node hangs), or when every subscriber has
 *   handled the request without answering (what NATS reports once the timeout passes);
 * - IM_BUS_UNAVAILABLE while `down` (this node has lost NATS).
 * Plain publishes are delivered on a later microtask, as over a network; `settled()` waits for them.
 */
import type { Bus, BusHandler, BusStatus, BusSubscription, PublishOptions } from '../../src/bus/bus.js'
import { ImError, ImErrorCode } from '../../src/errors.js'

interface Subscription {
  readonly subject: string
  readonly handler: BusHandler
}

export class FakeBus implements Bus {
  /** While true, every publish and request fails as on a node that lost NATS. */
  down = false
  /** Subjects whose subscribers never answer a request in time. */
  readonly silent = new Set<string>()
  /** Every publish and request, in order: `[subject, JSON text]`. */
  readonly sent: Array<readonly [string, string]> = []
  private readonly subscriptions = new Set<Subscription>()
  private readonly deliveries: Promise<unknown>[] = []
  private inboxes = 0

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<void> {
    if (this.down) return Promise.reject(new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected'))
    this.sent.push([subject, new TextDecoder().decode(data)])
    const message = { subject, data, ...(options.reply ? { reply: options.reply } : {}) }
    for (const subscription of this.listeners(subject)) {
      this.deliveries.push(Promise.resolve().then(() => subscription.handler(message)))
    }
    return Promise.resolve()
  }

  subscribe(subject: string, handler: BusHandler): BusSubscription {
    const subscription = { subject, handler }
    this.subscriptions.add(subscription)
    return { subject, unsubscribe: () => this.subscriptions.delete(subscription) }
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (this.down) throw new ImError(ImErrorCode.BusUnavailable, 'NATS is not connected')
    const listeners = this.listeners(subject)
    if (listeners.length === 0) throw new ImError(ImErrorCode.BusNoResponders, `no one listens on ${subject}`)
    this.sent.push([subject, new TextDecoder().decode(data)])
    if (this.silent.has(subject)) throw new ImError(ImErrorCode.BusTimeout, `no answer on ${subject} within ${timeoutMs} ms`)
    const inbox = `_INBOX.${++this.inboxes}`
    let answer: Uint8Array | undefined
    const reply = this.subscribe(inbox, (message) => void (answer ??= message.data))
    try {
      await Promise.allSettled(listeners.map((listener) => listener.handler({ subject, data, reply: inbox })))
      await this.settled()
    } finally {
      reply.unsubscribe()
    }
    if (answer === undefined) throw new ImError(ImErrorCode.BusTimeout, `no answer on ${subject} within ${timeoutMs} ms`)
    return answer
  }

  /** Resolves once every publish so far has been handled. */
  async settled(): Promise<void> {
    while (this.deliveries.length > 0) await Promise.allSettled(this.deliveries.splice(0))
  }

  async ready(): Promise<void> {}

  status(): BusStatus {
    return { kind: 'embedded', state: this.down ? 'reconnecting' : 'connected' }
  }

  onStatusChange(): () => void {
    return () => {}
  }

  async close(): Promise<void> {
    this.subscriptions.clear()
  }

  private listeners(subject: string): Subscription[] {
    return [...this.subscriptions].filter((subscription) => subscription.subject === subject)
  }
}
