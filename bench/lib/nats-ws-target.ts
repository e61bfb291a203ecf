/**
 * Reference: nats-server's own WebSocket listener, the native ceiling for fan-out from NATS. A
 * separate nats-server (not the run's bus) on free ports, pinned to the server core like every
 * target, with `websocket { no_tls, compression: false }`; raw NATS-over-WebSocket load clients
 * (nats-ws-protocol.ts) each subscribe to `im.default.send`, and the service side publishes the
 * same tick payload to this server over plain NATS (from the load core). It does no SignalR
 * framing at all: it delivers the service's payload as is, inside a NATS `MSG`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { findNatsServer, freePort } from '../../test/support/nats-server.js'
import { rssBytes, spawnPinned, stopProcess, waitForPort } from './procs.js'
import { BROADCAST_SUBJECT, tickPayload } from './protocol.js'
import type { Target } from './targets.js'

export const natsWs: Target = {
  id: 'nats-ws',
  description: "nats-server's own WebSocket listener (its own server, pinned like the others), raw NATS-over-WebSocket clients",
  reference: true,
  // Broadcast is what it is the ceiling for; it has no users, invocations or negotiate of the SignalR kind.
  workloads: ['idle', 'broadcast'],
  unavailable() {
    try {
      findNatsServer()
      return undefined
    } catch (error) {
      return error instanceof Error ? error.message : String(error)
    }
  },
  async start(context) {
    const [port, wsPort, httpPort] = [await freePort(), await freePort(), await freePort()]
    const dir = mkdtempSync(join(tmpdir(), 'bench-nats-ws-'))
    const config = join(dir, 'nats-ws.conf')
    writeFileSync(
      config,
      [
        `listen: 127.0.0.1:${port}`,
        `http: 127.0.0.1:${httpPort}`,
        'max_connections: 100000',
        `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: false }`,
        '',
      ].join('\n'),
    )
    const proc = spawnPinned(context.core, findNatsServer(), ['-c', config], { stdio: 'ignore' })
    const cleanup = async (): Promise<void> => {
      await stopProcess(proc)
      rmSync(dir, { recursive: true, force: true })
    }
    try {
      await waitForPort(wsPort, 10_000, () => proc.exitCode === null)
      await waitForPort(httpPort, 10_000, () => proc.exitCode === null)
      const nc = await connect({ servers: `nats://127.0.0.1:${port}`, name: 'bench-publisher-nats-ws' })
      const httpUrl = `http://127.0.0.1:${wsPort}`
      return {
        pid: proc.pid!,
        client: 'natsws',
        httpUrl,
        wsUrl: `ws://127.0.0.1:${wsPort}`,
        async connections() {
          const res = await fetch(`http://127.0.0.1:${httpPort}/varz`, { signal: AbortSignal.timeout(5000) })
          const varz = (await res.json()) as { connections?: number }
          // The publisher is a client of this server too.
          return (varz.connections ?? Number.NaN) - 1
        },
        // A Go process: RSS from /proc like every target; it has no V8 heap to report.
        memory: async () => ({ rss: rssBytes(proc.pid!) }),
        publisher: {
          publish: (seq, phase) => nc.publish(BROADCAST_SUBJECT, tickPayload(seq, phase)),
          flush: () => nc.flush(),
        },
        async stop() {
          await nc.close().catch(() => undefined)
          await cleanup()
        },
      }
    } catch (error) {
      await cleanup()
      throw error
    }
  },
}
