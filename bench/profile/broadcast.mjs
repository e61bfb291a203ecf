// N raw SignalR clients (JSON, no negotiate); a NATS publisher sends im.default.send at `rate`
// messages/s for `seconds`. Prints deliveries and MEASURE_START / MEASURE_END around the sending.
import WebSocket from 'ws'
import { connect } from '@nats-io/transport-node'
const port = Number(process.argv[2]), seconds = Number(process.argv[3] ?? 6), rate = Number(process.argv[4] ?? 4), clients = Number(process.argv[5] ?? 5000)
let received = 0
for (let b = 0; b < clients; b += 500) {
  await Promise.all(Array.from({ length: Math.min(500, clients - b) }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/signalr-hubs/default`, { perMessageDeflate: false })
    let hs = false
    ws.on('open', () => ws.send('{"protocol":"json","version":1}\x1e'))
    ws.on('message', (d) => { if (!hs) { hs = true; return resolve() } for (const f of d.toString().split('\x1e')) if (f.startsWith('{"type":1')) received++ })
    ws.on('error', reject)
  })))
}
const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
const enc = new TextEncoder()
await new Promise((r) => setTimeout(r, 1000))
let sent = 0
const received0 = received
process.stdout.write('MEASURE_START\n')
const start = Date.now()
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - start) * rate) / 1000)
    while (sent < due) nc.publish('im.default.send', enc.encode(`{"method":"tick","args":[${sent++},"some payload text of a typical size"]}`))
    if (Date.now() - start >= seconds * 1000) { clearInterval(timer); resolve() }
  }, 5)
})
await nc.flush()
process.stdout.write('MEASURE_END\n')
await new Promise((r) => setTimeout(r, 1000))
console.log(JSON.stringify({ sent, received: received - received0, expected: sent * clients }))
process.exit(0)
