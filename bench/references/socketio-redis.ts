/**
 * Reference: what a user would pick instead. Socket.IO 4 with @socket.io/redis-adapter on the run's
 * own redis-server (started by the harness); a service broadcasts by emitting through
 * @socket.io/redis-emitter into Redis, the role NATS plays for IMService. Each Socket.IO event
 * `tick` is encoded once per broadcast by the adapter and written to every socket by engine.io.
 * - Users: a middleware verifies the HS256 token in the handshake's `access_token` query with jose
 *   (as IMService verifies its own), and the socket joins the room `user:<sub>`; a service targets
 *   a user with `emitter.to('user:<id>').emit(...)`.
 * - Invocations: the event `publish(topic, ...args, ack)` goes to NATS on
 *   `im.default.receive.<topic>` in IMService's envelope, then acks.
 * Defaults otherwise (pingInterval 25 s, both transports allowed; the bench's clients use the
 * WebSocket transport only). `GET /healthz` answers the connection count.
 *
 * Run: IM_PORT=0 BENCH_REDIS_URL=redis://127.0.0.1:6379 IM_NATS_URL=nats://127.0.0.1:4222 node --import tsx bench/references/socketio-redis.ts
 */
import { createServer } from 'node:http'
import { connect } from '@nats-io/transport-node'
import { createAdapter } from '@socket.io/redis-adapter'
import { jwtVerify } from 'jose'
import { createClient } from 'redis'
import { Server } from 'socket.io'
import { RECEIVE_PREFIX } from '../lib/protocol.js'

const port = Number(process.env.IM_PORT ?? 0)
const host = process.env.IM_HOST ?? '127.0.0.1'
const redisUrl = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const natsUrl = process.env.IM_NATS_URL ?? 'nats://127.0.0.1:4222'
const secret = process.env.BENCH_JWT_SECRET ? new TextEncoder().encode(process.env.BENCH_JWT_SECRET) : undefined

const pubClient = createClient({ url: redisUrl })
const subClient = pubClient.duplicate()
for (const client of [pubClient, subClient]) client.on('error', (error: unknown) => process.stderr.write(`redis: ${String(error)}\n`))
await Promise.all([pubClient.connect(), subClient.connect()])
const nc = await connect({ servers: natsUrl, name: 'socketio-redis' })

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', connections: io.engine.clientsCount }))
  } else if (!req.url?.startsWith('/socket.io/')) {
    res.writeHead(404).end()
  }
})
const io = new Server(http, { serveClient: false, adapter: createAdapter(pubClient, subClient) })

// A token, when present, must verify; none means anonymous (idle and broadcast connect without one).
io.use((socket, next) => {
  const token = socket.handshake.query.access_token
  if (typeof token !== 'string' || token === '') return next()
  if (!secret) return next(new Error('unauthorized'))
  jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
    ({ payload }) => {
      socket.data.userId = payload.sub
      next()
    },
    () => next(new Error('unauthorized')),
  )
})

io.on('connection', (socket) => {
  const userId = socket.data.userId as string | undefined
  if (userId !== undefined) void socket.join(`user:${userId}`)
  socket.on('publish', (...received: unknown[]) => {
    const ack = typeof received.at(-1) === 'function' ? (received.pop() as () => void) : undefined
    const [topic, ...args] = received
    if (typeof topic !== 'string') return
    const envelope = { hub: 'default', method: 'publish', topic, args, connectionId: socket.id, userId: userId ?? null, node: 'socketio-redis', timestamp: new Date().toISOString() }
    nc.publish(`${RECEIVE_PREFIX}${topic}`, JSON.stringify(envelope))
    ack?.()
  })
})

http.listen(port, host, () => {
  const address = http.address()
  const actual = address && typeof address === 'object' ? address.port : port
  process.stdout.write(`socketio-redis listening on http://${host}:${actual}\n`)
})

const stop = (): void => {
  io.disconnectSockets(true)
  void Promise.allSettled([pubClient.quit(), subClient.quit(), nc.close()]).finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
