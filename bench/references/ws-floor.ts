/**
 * Reference: the floor of overhead on this runtime. A plain `ws` server that answers the SignalR
 * JSON handshake and does the same work as IMService minus the framework:
 * - broadcast: subscribes to `im.default.send`, parses each payload once, frames the SignalR
 *   invocation once, and writes that one buffer to every socket;
 * - targeted delivery: a `Map` user id -> sockets (the user is the `sub` of the HS256 token in
 *   `access_token`, verified with jose at the upgrade), subscribes to `im.default.send.user`,
 *   parses, looks up, frames once, writes to that user's sockets;
 * - invocations: parses each Invocation frame, publishes `publish(topic, ...args)` to
 *   `im.default.receive.<topic>` in IMService's envelope, and writes a Completion.
 * No negotiate, no backpressure cap, no validation beyond what the work needs, no per-connection
 * timer. `GET /healthz` answers the connection count.
 *
 * Run: IM_PORT=0 IM_NATS_URL=nats://127.0.0.1:4222 [BENCH_JWT_SECRET=...] node --import tsx bench/references/ws-floor.ts
 */
import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { connect } from '@nats-io/transport-node'
import { jwtVerify } from 'jose'
import * as wsModule from 'ws'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { BROADCAST_SUBJECT, RECEIVE_PREFIX, USER_SUBJECT } from '../lib/protocol.js'

const port = Number(process.env.IM_PORT ?? 0)
const host = process.env.IM_HOST ?? '127.0.0.1'
const natsUrl = process.env.IM_NATS_URL ?? 'nats://127.0.0.1:4222'
const secret = process.env.BENCH_JWT_SECRET ? new TextEncoder().encode(process.env.BENCH_JWT_SECRET) : undefined
const KEEP_ALIVE_MS = 15_000

// What ws keeps private but exports: a frame built once (mask false, as servers send).
const frameOf = (text: string): Buffer =>
  Buffer.concat((wsModule as unknown as { Sender: SenderStatics }).Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[]
}

const sockets = new Set<Socket>()
const users = new Map<string, Set<Socket>>()
/** The user a verified upgrade belongs to, handed from verifyClient to 'connection' (the request itself is not kept). */
const userOf = new WeakMap<IncomingMessage, string>()
let connectionIds = 0

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', connections: sockets.size }))
  } else {
    res.writeHead(404).end()
  }
})
const wss = new WebSocketServer({
  server: http,
  perMessageDeflate: false,
  clientTracking: false,
  // A token, when present, must verify (HS256, as IMService is configured in the bench); none means anonymous.
  verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, code?: number) => void) => {
    const token = new URL(info.req.url ?? '/', 'http://x').searchParams.get('access_token')
    if (!token) return done(true)
    if (!secret) return done(false, 401)
    jwtVerify(token, secret, { algorithms: ['HS256'] }).then(
      ({ payload }) => {
        if (typeof payload.sub === 'string') userOf.set(info.req, payload.sub)
        done(true)
      },
      () => done(false, 401),
    )
  },
})

wss.on('connection', (ws: WebSocket, req: IncomingMessage) => {
  // The raw socket, so a pre-built frame goes out in one write; ws's own sender stays idle.
  const raw = (ws as unknown as { _socket: Socket })._socket
  const user = userOf.get(req)
  const connectionId = String(++connectionIds)
  const forget = (): void => {
    sockets.delete(raw)
    const mine = user === undefined ? undefined : users.get(user)
    mine?.delete(raw)
    if (mine?.size === 0) users.delete(user!)
  }
  ws.once('message', (data: Buffer) => {
    // Any handshake is taken as JSON v1: the floor does not validate what IMService validates.
    if (data.at(-1) !== 0x1e) return ws.close(1002)
    ws.send('{}\x1e')
    sockets.add(raw)
    if (user !== undefined) {
      const mine = users.get(user) ?? new Set()
      mine.add(raw)
      users.set(user, mine)
    }
    ws.on('message', (next: Buffer) => onRecords(next, raw, connectionId, user))
  })
  ws.on('close', forget)
  ws.on('error', forget)
})

/** Invocations of `publish(topic, ...args)` go to NATS and complete; pings and anything else are dropped. */
function onRecords(data: Buffer, raw: Socket, connectionId: string, user: string | undefined): void {
  let start = 0
  for (let end = data.indexOf(0x1e); end >= 0; start = end + 1, end = data.indexOf(0x1e, start)) {
    if (data[start + 8] !== 0x31 /* the 1 of {"type":1 */) continue
    let message: { invocationId?: string; target?: string; arguments?: unknown[] }
    try {
      message = JSON.parse(data.toString('utf8', start, end))
    } catch {
      continue
    }
    if (message.target !== 'publish' || !Array.isArray(message.arguments) || typeof message.arguments[0] !== 'string') continue
    const [topic, ...args] = message.arguments as [string, ...unknown[]]
    const envelope = { hub: 'default', method: 'publish', topic, args, connectionId, userId: user ?? null, node: 'ws-floor', timestamp: new Date().toISOString() }
    nc.publish(`${RECEIVE_PREFIX}${topic}`, JSON.stringify(envelope))
    if (message.invocationId !== undefined) raw.write(frameOf(`{"type":3,"invocationId":${JSON.stringify(message.invocationId)},"result":null}\x1e`))
  }
}

/** `{"type":1,"target":...,"arguments":...}` framed once, from a service payload; undefined when it is not one. */
function invocationFrame(payload: { method?: unknown; args?: unknown }): Buffer | undefined {
  if (typeof payload.method !== 'string' || !Array.isArray(payload.args)) return undefined
  return frameOf(`{"type":1,"target":${JSON.stringify(payload.method)},"arguments":${JSON.stringify(payload.args)}}\x1e`)
}

function parse(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}

const nc = await connect({ servers: natsUrl, name: 'ws-floor' })
nc.subscribe(BROADCAST_SUBJECT, {
  callback: (error, msg) => {
    const frame = error ? undefined : invocationFrame(parse(msg.string()) ?? {})
    if (frame) for (const socket of sockets) socket.write(frame)
  },
})
nc.subscribe(USER_SUBJECT, {
  callback: (error, msg) => {
    const payload = error ? undefined : parse(msg.string())
    const mine = typeof payload?.userId === 'string' ? users.get(payload.userId) : undefined
    const frame = mine && payload ? invocationFrame(payload) : undefined
    if (frame) for (const socket of mine!) socket.write(frame)
  },
})

// One keep-alive timer for all sockets, as IMService sends keep-alive pings (the official clients need them).
const ping = frameOf('{"type":6}\x1e')
setInterval(() => {
  for (const socket of sockets) socket.write(ping)
}, KEEP_ALIVE_MS).unref()

http.listen(port, host, () => {
  const address = http.address()
  const actual = address && typeof address === 'object' ? address.port : port
  process.stdout.write(`ws-floor listening on http://${host}:${actual}\n`)
})

const stop = (): void => {
  for (const socket of sockets) socket.destroy()
  void nc.close().finally(() => process.exit(0))
  setTimeout(() => process.exit(0), 2000).unref()
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
