/**
 * One nats-server with JetStream for a test file, a service-side connection to it, and nodes
 * connected to it. Registers its own hooks: cleanups run after each test (newest first) and every
 * stream is deleted, so tests start from an empty JetStream; the server stops after the file.
 */
import { jetstreamManager } from '@nats-io/jetstream'
import type { JetStreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, afterEach, beforeAll, expect } from 'vitest'
import { startTestServer, untilSubscribed } from './im-server.js'
import type { TestServer, TestServerOptions } from './im-server.js'
import { startNatsServer } from './nats-server.js'
import type { NatsServer } from './nats-server.js'

export interface JetStreamFixture {
  readonly nats: NatsServer
  /** A service's connection: reconnects without limit, every 100 ms. */
  readonly nc: NatsConnection
  readonly jsm: JetStreamManager
  /** Runs `cleanup` after the current test. */
  onCleanup(cleanup: () => Promise<unknown>): void
  /** A node connected to this NATS with its subscriptions in effect, closed after the test. */
  node(options: TestServerOptions): Promise<TestServer>
}

export function jetStreamFixture(): JetStreamFixture {
  let nats: NatsServer | undefined
  let nc: NatsConnection | undefined
  let jsm: JetStreamManager | undefined
  const cleanups: Array<() => Promise<unknown>> = []
  const ready = <T>(value: T | undefined): T => value ?? expect.fail('the JetStream fixture is used before its beforeAll ran')

  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: true })
    nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 })
    jsm = await jetstreamManager(nc)
  })
  afterAll(async () => {
    await nc?.close()
    await nats?.stop()
  })
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
    if (jsm) for await (const name of jsm.streams.names()) await jsm.streams.delete(name)
  })

  const fixture: JetStreamFixture = {
    get nats() {
      return ready(nats)
    },
    get nc() {
      return ready(nc)
    },
    get jsm() {
      return ready(jsm)
    },
    onCleanup: (cleanup) => void cleanups.push(cleanup),
    async node(options) {
      const server = await startTestServer({ natsUrl: fixture.nats.url, ...options })
      cleanups.push(() => server.close())
      await untilSubscribed(server)
      return server
    },
  }
  return fixture
}
