/**
 * A round-robin TCP load balancer on loopback, for tests and the chaos suite: each new client
 * connection goes to the next target that accepts it, WebSockets included, with no affinity. A
 * refused upstream (a dead node) is retried on the next target, walking from the client's own
 * starting point: the shared index moves with other clients, and a retry must not land on the
 * target that just refused it.
 */
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'

export interface TcpBalancer extends AsyncDisposable {
  readonly url: string
  /** Upstream connections refused (a dead target) and retried on the next one. */
  readonly refused: number
  close(): Promise<void>
}

export async function startTcpBalancer(targets: ReadonlyArray<{ readonly port: number }>): Promise<TcpBalancer> {
  let next = 0
  let refused = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  }
  const connectTo = (client: Socket, start: number, tries: number): void => {
    if (tries >= targets.length || client.destroyed) return void client.destroy()
    const target = targets[(start + tries) % targets.length]!
    const upstream = createConnection({ host: '127.0.0.1', port: target.port })
    // Node resets `connecting` before 'error' fires on a refusal: track the state ourselves.
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
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get refused() {
      return refused
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
