/**
 * A round-robin TCP balancer on loopback, as test/support/tcp-balancer.ts, with two differences
 * that matter once a node is dead: a refused upstream is retried on the next target (the shared
 * one tests `upstream.connecting`, which Node has already reset to false when 'error' fires after
 * ECONNREFUSED, so it drops the client instead; and its retry takes the shared round-robin index,
 * which concurrent clients move, so it can land on the dead node again). Dropped clients make the
 * official client's default schedule (0, 2, 10, 30 s) wait or give up, which would measure the
 * balancer, not IMService. Closed sockets are also forgotten, not kept.
 */
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'

export interface Balancer {
  readonly url: string
  /** Upstream connections refused (a dead target) and retried on the next one. */
  readonly refused: number
  close(): Promise<void>
}

export async function startBalancer(targets: ReadonlyArray<{ readonly port: number }>): Promise<Balancer> {
  let next = 0
  let refused = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  // Each client walks the targets from its own starting point, so a retry never lands on the
  // target that just refused it because other clients moved the shared index meanwhile.
  const connectTo = (client: Socket, start: number, tries: number): void => {
    if (tries >= targets.length || client.destroyed) return void client.destroy()
    const target = targets[(start + tries) % targets.length]!
    const upstream = createConnection({ host: '127.0.0.1', port: target.port })
    let connected = false
    upstream.once('connect', () => {
      connected = true
      track(upstream)
      client.pipe(upstream).pipe(client)
      client.resume()
    })
    upstream.once('error', () => {
      if (connected) return void client.destroy()
      refused++
      connectTo(client, start, tries + 1)
    })
    upstream.once('close', () => connected && client.destroy())
    client.once('close', () => upstream.destroy())
  }
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client)
    client.on('error', () => client.destroy())
    connectTo(client, next++, 0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
