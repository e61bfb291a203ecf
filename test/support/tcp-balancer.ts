/**
 * A round-robin TCP load balancer on loopback, for tests: each new client connection goes to the
 * next target that accepts it (a stopped node is skipped), WebSockets included. No affinity.
 */
import { createConnection, createServer } from 'node:net'
import type { AddressInfo, Server, Socket } from 'node:net'

export interface TcpBalancer extends AsyncDisposable {
  readonly url: string
  close(): Promise<void>
}

export async function startTcpBalancer(targets: ReadonlyArray<{ readonly port: number }>): Promise<TcpBalancer> {
  let next = 0
  const sockets = new Set<Socket>()
  const connectTo = (client: Socket, tries: number): void => {
    if (tries >= targets.length) return void client.destroy()
    const target = targets[next++ % targets.length]!
    const upstream = createConnection({ host: '127.0.0.1', port: target.port })
    upstream.once('connect', () => {
      sockets.add(upstream)
      client.pipe(upstream).pipe(client)
      client.resume()
    })
    upstream.once('error', () => {
      if (!upstream.readyState || upstream.connecting) connectTo(client, tries + 1)
      else client.destroy()
    })
    upstream.once('close', () => client.destroy())
    client.once('close', () => upstream.destroy())
  }
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client)
    client.on('error', () => client.destroy())
    connectTo(client, 0)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy()
    await new Promise((resolve) => server.close(resolve))
  }
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close, [Symbol.asyncDispose]: close }
}
