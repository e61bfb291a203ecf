/**
 * Reference: what a user would pick instead. Socket.IO 4 with @socket.io/redis-adapter on the run's
 * own redis-server (started by the harness); a service broadcasts by emitting through
 * @socket.io/redis-emitter into Redis, the role NATS plays for IMService. Each Socket.IO event
 * `tick` is encoded once per broadcast by the adapter and written to every socket by engine.io.
 * Defaults otherwise (pingInterval 25 s, both transports allowed; the bench's clients use the
 * WebSocket transport only). `GET /healthz` answers the connection count.
 *
 * Run: IM_PORT=0 BENCH_REDIS_URL=redis://127.0.0.1:6379 node --import tsx bench/references/socketio-redis.ts
 */
import { createServer } from 'node:http'
import { createAdapter } from '@socket.io/redis-adapter'
import { createClient } from 'redis'
import { Server } from 'socket.io'

const port = Number(process.env.IM_PORT ?? 0)
const host = process.env.IM_HOST ?? '127.0.0.1'
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

const pubClient = createClient({ url: redisUrl })
const subClient = pubClient.duplicate()
for (const client of [pubClient, subClient]) client.on('error', (error: unknown) => process.stderr.write(`redis: ${String(error)}\n`))
await Promise.all([pubClient.connect(), subClient.connect()])

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', connections: io.engine.clientsCount }))
  } else if (!req.url?.startsWith('/socket.io/')) {
    res.writeHead(404).end()
  }
})
const io = new Server(http, { serveClient: false, adapter: createAdapter(pubClient, subClient) })
// Nothing per socket: the default namespace accepts every connection and the emitter does the rest.
io.on('connection', () => undefined)

http.listen(port, host, () => {
  const address = http.address()
  const actual = address && typeof address === 'object' ? address.port : port
  process.stdout.write(`socketio-redis listening on http://${host}:${actual}\n`)
})

const stop = (): void => {
  io.disconnectSockets(true)
  void Promise.allSettled([pubClient.quit(), subClient.quit()]).finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
