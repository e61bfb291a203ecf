// 1k users x 2 raw connections with JWT; a NATS publisher sends im.default.send.user to random users at a fixed rate.
import WebSocket from 'ws'
import { SignJWT } from 'jose'
import { connect } from '@nats-io/transport-node'
const port = Number(process.argv[2]), seconds = Number(process.argv[3] ?? 6), rate = Number(process.argv[4] ?? 10000), users = 1000
const secret = new TextEncoder().encode('bench-secret-that-is-long-enough-for-hs256-xx')
const tokens = await Promise.all(Array.from({ length: users }, (_, i) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u' + i).setExpirationTime('1h').sign(secret)))
let received = 0
for (let batch = 0; batch < 2 * users; batch += 200) {
  await Promise.all(Array.from({ length: 200 }, (_, k) => new Promise((resolve, reject) => {
    const u = (batch + k) % users
    const ws = new WebSocket(`ws://127.0.0.1:${port}/signalr-hubs/default?access_token=${tokens[u]}`, { perMessageDeflate: false })
    let hs = false
    ws.on('open', () => ws.send('{"protocol":"json","version":1}\x1e'))
    ws.on('message', (d) => { if (!hs) { hs = true; return resolve() } const t = d.toString(); for (const f of t.split('\x1e')) if (f.startsWith('{"type":1')) received++ })
    ws.on('error', reject)
  })))
}
const nc = await connect({ servers: 'nats://127.0.0.1:4222' })
const enc = new TextEncoder()
let sent = 0
process.stdout.write('MEASURE_START\n')
const start = Date.now(); const received0 = received
await new Promise((resolve) => {
  const timer = setInterval(() => {
    const due = Math.floor((Date.now() - start) * rate / 1000)
    while (sent < due) { nc.publish('im.default.send.user', enc.encode(`{"userId":"u${Math.floor(Math.random() * users)}","method":"note","args":[${sent},"some payload text"]}`)); sent++ }
    if (Date.now() - start >= seconds * 1000) { clearInterval(timer); resolve() }
  }, 5)
})
await nc.flush()
process.stdout.write('MEASURE_END\n')
await new Promise((r) => setTimeout(r, 500))
console.log(JSON.stringify({ sent, received: received - received0, expected: sent * 2 }))
process.exit(0)
