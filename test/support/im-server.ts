/**
 * Starts IMService nodes for tests: port 0 on loopback, settings given inline (the machine's IM_*
 * variables are ignored), disposed after the test even when it fails.
 */
import { resolveConfig } from '../../src/config/load-config.js'
import type { ImConfig, ImConfigInput } from '../../src/config/config.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import type { HubClass } from '../../src/hub/hub.js'
import { startServer } from '../../src/server.js'
import type { ImServer } from '../../src/server.js'
import { createConsoleLogger, silentLogger } from '../../src/logger.js'
import type { Logger } from '../../src/logger.js'

export interface TestServerOptions {
  /** NATS URL; omit to run on the embedded bus. */
  readonly natsUrl?: string
  readonly hubs?: readonly HubClass[]
  readonly config?: ImConfigInput
  readonly logger?: Logger
}

export type TestServer = ImServer & AsyncDisposable & {
  /** Absolute URL of a hub route, e.g. hubUrl('/signalr-hubs/default'). */
  hubUrl(path?: string): string
}

/** Set IM_TEST_LOG=debug to see what the nodes log while a test runs. */
const testLogger: Logger = process.env.IM_TEST_LOG ? createConsoleLogger({ level: process.env.IM_TEST_LOG as 'debug' }) : silentLogger

export function testConfig(options: TestServerOptions = {}): ImConfig {
  const input = options.config ?? {}
  const config = resolveConfig({ ...input, port: 0, host: '127.0.0.1', nats: { ...input.nats, url: options.natsUrl ?? 'nats://127.0.0.1:1' } }, {})
  // Without a NATS URL the node must not go looking for one: mark it "not explicit" so it falls
  // back to the embedded bus after one failed try on a port nothing listens on.
  return options.natsUrl ? config : { ...config, nats: { ...config.nats, explicit: false } }
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const server = await startServer({ config: testConfig(options), hubs: options.hubs ?? [DefaultHub], logger: options.logger ?? testLogger })
  return Object.assign(server, {
    hubUrl: (path = '/signalr-hubs/default') => `${server.url}${path}`,
    [Symbol.asyncDispose]: () => server.close(),
  })
}

/**
 * Resolves once the node's bus is connected and its subscriptions are in effect at the server:
 * an explicit NATS is connected in the background, and a request another node sends before then
 * (a connection claim, a relayed poll) would find nobody listening.
 */
export async function untilSubscribed(server: ImServer, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (server.bus.status().state !== 'connected') {
    if (Date.now() > deadline) throw new Error(`node ${server.nodeId}: bus still ${server.bus.status().state} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  await server.bus.ready()
}
