/**
 * The resources most integration files share: one nats-server, a service connected to it and the
 * nodes the file names, started once before its tests and disposed after them. Each is an
 * AsyncDisposable, the same ones a single test holds with `await using`; here the fixture holds
 * them for the file and disposes them newest first, also when a start failed half-way.
 */
import { afterAll, beforeAll, expect } from 'vitest'
import { startTestServer, untilSubscribed } from './im-server.js'
import type { TestServer, TestServerOptions } from './im-server.js'
import { startNatsServer } from './nats-server.js'
import type { NatsServer, NatsServerOptions } from './nats-server.js'
import { TestService } from './service.js'

export interface NatsFixtureOptions {
  readonly nats?: NatsServerOptions
  /** The nodes to start on that NATS, together; each with its subscriptions in effect before the tests. */
  readonly nodes?: ReadonlyArray<Omit<TestServerOptions, 'natsUrl'>>
}

export interface NatsFixture {
  readonly nats: NatsServer
  /** A backend service's connection to the NATS. */
  readonly service: TestService
  /** The nodes, in the order the options name them. */
  readonly nodes: readonly TestServer[]
  /** The first node. */
  readonly server: TestServer
  /** Starts another node on the NATS, disposed with the fixture. */
  node(options?: Omit<TestServerOptions, 'natsUrl'>): Promise<TestServer>
  /** Disposes `resource` with the fixture, before what was started earlier. */
  hold<T extends AsyncDisposable>(resource: T): T
}

export function natsFixture(options: NatsFixtureOptions = {}): NatsFixture {
  const held: AsyncDisposable[] = []
  let started: { nats: NatsServer; service: TestService; nodes: TestServer[] } | undefined
  const ready = (): NonNullable<typeof started> => started ?? expect.fail('the NATS fixture is used before its beforeAll ran')
  const hold = <T extends AsyncDisposable>(resource: T): T => {
    held.push(resource)
    return resource
  }
  const node = async (nodeOptions: Omit<TestServerOptions, 'natsUrl'> = {}): Promise<TestServer> => {
    const server = hold(await startTestServer({ ...nodeOptions, natsUrl: ready().nats.url }))
    await untilSubscribed(server)
    return server
  }

  beforeAll(async () => {
    const nats = hold(await startNatsServer(options.nats))
    const service = hold(await TestService.connect(nats.url))
    started = { nats, service, nodes: [] }
    started.nodes.push(...(await Promise.all((options.nodes ?? []).map((nodeOptions) => node(nodeOptions)))))
  })
  afterAll(async () => {
    const failures: unknown[] = []
    for (const resource of held.splice(0).reverse()) {
      try {
        await resource[Symbol.asyncDispose]()
      } catch (error) {
        failures.push(error)
      }
    }
    if (failures.length > 0) throw failures[0]
  })

  return {
    get nats() {
      return ready().nats
    },
    get service() {
      return ready().service
    },
    get nodes() {
      return ready().nodes
    },
    get server() {
      return ready().nodes[0] ?? expect.fail('the NATS fixture has no node')
    },
    node,
    hold,
  }
}
