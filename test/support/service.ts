/**
 * A backend service as tests play it: a plain NATS connection that publishes JSON to IMService's
 * subjects and listens to what IMService publishes.
 */
import { connect } from '@nats-io/transport-node'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import { Recorder } from './recorder.js'

export interface ServiceMessage {
  readonly subject: string
  readonly json: unknown
}

/** Records the JSON messages of one subscription; `next()` waits for the next one. */
export class Listener extends Recorder<ServiceMessage> {
  constructor(sub: Subscription) {
    super(`a message on ${sub.getSubject()}`)
    void (async () => {
      for await (const m of sub) this.record({ subject: m.subject, json: JSON.parse(m.string()) })
    })()
  }

  /**
   * The next lifecycle event of one connection, skipping others': those events are published
   * without confirmation and may reach a listener a few milliseconds late, after it subscribed
   * for another connection.
   */
  nextFor(connectionId: string | null | undefined, timeoutMs = 5000): Promise<ServiceMessage> {
    return this.nextMatching((message) => (message.json as { connectionId?: unknown }).connectionId === connectionId, timeoutMs)
  }
}

export class TestService implements AsyncDisposable {
  private constructor(readonly nc: NatsConnection) {}

  static async connect(url: string): Promise<TestService> {
    return new TestService(await connect({ servers: url, name: 'test-service' }))
  }

  /** Publishes `payload` as JSON and waits until the server has it. */
  async publish(subject: string, payload: unknown): Promise<void> {
    await this.publishRaw(subject, JSON.stringify(payload))
  }

  async publishRaw(subject: string, data: string | Uint8Array): Promise<void> {
    this.nc.publish(subject, data)
    await this.nc.flush()
  }

  /** Starts listening (and makes sure the server knows before resolving). */
  async listen(subject: string): Promise<Listener> {
    const listener = new Listener(this.nc.subscribe(subject))
    await this.nc.flush()
    return listener
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.nc.close()
  }
}
