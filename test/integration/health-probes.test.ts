/**
 * /healthz/live and /healthz/ready on real nodes, on the public port and on the internal listener:
 * ready answers 503 with its reasons while NATS is unreachable, lost, or its JetStream stream
 * unusable, 200 once connected, and 503 "draining" through a graceful stop, from its first moment
 * until the node has let go of its last client, while live stays 200.
 */
import { createConnection } from 'node:net'
import * as signalR from '@microsoft/signalr'
import { describe, expect, it } from 'vitest'
import { withTimeout } from '../support/clients.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import { probe, probeUntil } from '../support/probes.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'

const NOT_READY = (...reasons: string[]): object => ({ status: 503, body: expect.objectContaining({ status: 'not ready', reasons }) })
const READY = { status: 200, body: expect.objectContaining({ status: 'ready' }) }
const LIVE = { status: 200, body: expect.objectContaining({ status: 'live' }) }

/** Both listeners of a node started with an internal one. */
function listeners(server: TestServer): string[] {
  return [server.url, server.internalUrl!]
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) })
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', () => resolve(true))
  })
}

describe('/healthz/ready follows the bus', () => {
  it('answers 503 while NATS is unreachable and 200 once it answers; live is 200 throughout', async () => {
    const port = await freePort()
    const natsUrl = `nats://127.0.0.1:${port}`
    await using server = await startTestServer({ natsUrl, config: { nodeId: 'probe-a', internalPort: 0, nats: { reconnectWaitMs: 100 } } })
    for (const base of listeners(server)) {
      expect(await probe(base, '/healthz/live')).toEqual(LIVE)
      expect(await probe(base, '/healthz/ready')).toEqual(NOT_READY(`bus connecting to ${natsUrl}`))
      // The older /healthz stays 200 for what was written against it, and now says why.
      expect(await probe(base, '/healthz')).toMatchObject({ status: 200, body: { status: 'ok', ready: false, reasons: [`bus connecting to ${natsUrl}`] } })
    }

    await using nats = await startNatsServer({ port })
    for (const base of listeners(server)) {
      await probeUntil(base, '/healthz/ready', (a) => a.status === 200, 10_000)
      expect(await probe(base, '/healthz/ready')).toEqual(READY)
      expect(await probe(base, '/healthz')).toMatchObject({ status: 200, body: { ready: true } })
    }

    await nats.kill()
    const lost = await probeUntil(server.internalUrl!, '/healthz/ready', (a) => a.status === 503, 10_000)
    expect(lost).toEqual(NOT_READY(`bus reconnecting to ${natsUrl}`))
    expect(await probe(server.url, '/healthz/live')).toEqual(LIVE)
    await nats.restart()
    expect(await probeUntil(server.url, '/healthz/ready', (a) => a.status === 200, 15_000)).toEqual(READY)
  }, 40_000)

  it('answers 503 while the configured JetStream stream cannot be used, 200 where it can', async () => {
    await using plain = await startNatsServer()
    await using withoutJs = await startTestServer({ natsUrl: plain.url, config: { nodeId: 'probe-js-off', jetstream: { stream: 'IM_PROBE' } } })
    // Connected, and still not ready: the stream set-up failed (the node retries it in the background).
    const refused = await probeUntil(withoutJs.url, '/healthz/ready', (a) => String(a.body.reasons).includes('unavailable'), 10_000)
    expect(refused.status).toBe(503)
    expect(refused.body.reasons).toEqual([expect.stringMatching(/^JetStream stream IM_PROBE unavailable: .+/)])

    await using js = await startNatsServer({ jetstream: true })
    await using withJs = await startTestServer({ natsUrl: js.url, config: { nodeId: 'probe-js-on', jetstream: { stream: 'IM_PROBE' } } })
    expect(await probeUntil(withJs.url, '/healthz/ready', (a) => a.status === 200, 10_000)).toEqual(READY)
    expect(await probe(withJs.url, '/healthz')).toMatchObject({ body: { bus: { stream: { name: 'IM_PROBE', state: 'ready' } } } })
  }, 30_000)
})

describe('/healthz/ready through a graceful stop', () => {
  it('answers 503 "draining" on the internal listener until the node exits; the public one closes first', async () => {
    await using nats = await startNatsServer()
    const server = await startTestServer({ natsUrl: nats.url, config: { nodeId: 'probe-drain', internalPort: 0, hubs: { shutdownTimeoutMs: 3000 } } })
    try {
      expect(await probeUntil(server.internalUrl!, '/healthz/ready', (a) => a.status === 200, 10_000)).toEqual(READY)
      // A stateful-reconnect client holds the drain open: the node waits for it to move elsewhere,
      // and with no other node it cannot.
      const client = new signalR.HubConnectionBuilder()
        .withUrl(server.hubUrl(), { transport: signalR.HttpTransportType.WebSockets })
        .withStatefulReconnect()
        .configureLogging(signalR.LogLevel.None)
        .build()
      await client.start()

      let exited = false
      const closing = server.close().then(() => (exited = true))
      expect(await probe(server.internalUrl!, '/healthz/ready')).toEqual(NOT_READY('draining'))
      expect(await probe(server.internalUrl!, '/healthz/live')).toEqual(LIVE)
      expect(await probe(server.internalUrl!, '/healthz')).toMatchObject({ status: 200, body: { ready: false, reasons: ['draining'] } })
      // Kestrel's order: new connections to the public port are refused at once, so a balancer
      // sends them (and a moving client) to another node.
      expect(await refusesConnections(server.url)).toBe(true)
      // Still draining, still answering.
      expect(exited).toBe(false)
      expect(await probe(server.internalUrl!, '/healthz/ready')).toEqual(NOT_READY('draining'))

      await withTimeout(closing, 10_000, 'the drain to end')
      expect(await refusesConnections(server.internalUrl!)).toBe(true)
      await client.stop()
    } finally {
      await server.close()
    }
  }, 30_000)
})
