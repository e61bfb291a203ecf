/**
 * Reference: the floor of overhead on this runtime. A plain `ws` server that answers the SignalR
 * JSON handshake, subscribes to the same NATS subject as IMService, parses each payload once,
 * frames the SignalR invocation once, and writes that one buffer to every socket: the same work as
 * IMService's broadcast minus the framework. No negotiate, no auth, no backpressure cap, no
 * per-connection state beyond a Set. `GET /healthz` answers the connection count.
 *
 * Run: IM_PORT=0 IM_NATS_URL=nats://127.0.0.1:4222 node --import tsx bench/references/ws-floor.ts
 */
import { createServer } from 'node:http'
import type { Socket } from 'node:net'
import { connect } from '@nats-io/transport-node'
import * as wsModule from 'ws'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { BROADCAST_SUBJECT } from '../lib/protocol.js'

const port = Number(process.env.IM_PORT ?? 0)
const host = process.env.IM_HOST ?? '127.0.0.1'
const natsUrl = process.env.IM_NATS_URL ?? 'nats://127.0.0.1:4222'
const KEEP_ALIVE_MS = 15_000

// What ws keeps private but exports: a frame built once (mask false, as servers send).
const frameOf = (text: string): Buffer =>
  Buffer.concat((wsModule as unknown as { Sender: SenderStatics }).Sender.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false }))
interface SenderStatics {
  frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[]
}

const sockets = new Set<Socket>()

const http = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: 'ok', connections: sockets.size }))
  } else {
    res.writeHead(404).end()
  }
})
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, clientTracking: false })

wss.on('connection', (ws: WebSocket) => {
  // The raw socket, so a pre-built frame goes out in one write; ws's own sender stays idle.
  const raw = (ws as unknown as { _socket: Socket })._socket
  ws.once('message', (data: Buffer) => {
    // Any handshake is taken as JSON v1: the floor does not validate what IMService validates.
    if (data.at(-1) !== 0x1e) return ws.close(1002)
    ws.send('{}\x1e')
    sockets.add(raw)
    // Pings and anything else from the client are read and dropped, as IMService drops pings.
    ws.on('message', () => undefined)
  })
  ws.on('close', () => sockets.delete(raw))
  ws.on('error', () => sockets.delete(raw))
})

const nc = await connect({ servers: natsUrl, name: 'ws-floor' })
nc.subscribe(BROADCAST_SUBJECT, {
  callback: (error, msg) => {
    if (error) return
    let payload: { method?: unknown; args?: unknown }
    try {
      payload = JSON.parse(msg.string())
    } catch {
      return
    }
    if (typeof payload.method !== 'string' || !Array.isArray(payload.args)) return
    const frame = frameOf(`{"type":1,"target":${JSON.stringify(payload.method)},"arguments":${JSON.stringify(payload.args)}}\x1e`)
    for (const socket of sockets) socket.write(frame)
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
