// Closed-loop churn: negotiate (bearer) -> WebSocket (access_token) -> handshake -> close.
import http from 'node:http'
import WebSocket from 'ws'
import { SignJWT } from 'jose'
const port = Number(process.argv[2]), seconds = Number(process.argv[3] ?? 8), lanes = 16
const secret = new TextEncoder().encode('bench-secret-that-is-long-enough-for-hs256-xx')
const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u' + i).setExpirationTime('1h').sign(secret)))
const agent = new http.Agent({ keepAlive: true, maxSockets: lanes })
const negotiate = (token) => new Promise((resolve, reject) => {
  const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/signalr-hubs/default/negotiate?negotiateVersion=1', agent, headers: { authorization: 'Bearer ' + token } }, (res) => {
    let body = ''; res.on('data', (c) => (body += c)); res.on('end', () => res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(String(res.statusCode))))
  })
  req.on('error', reject); req.end()
})
let connects = 0, failed = 0, i = 0
const end = Date.now() + seconds * 1000
async function lane() {
  while (Date.now() < end) {
    const token = tokens[i++ % tokens.length]
    try {
      const n = await negotiate(token)
      await new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/signalr-hubs/default?id=${n.connectionToken}&access_token=${token}`, { perMessageDeflate: false })
        ws.on('open', () => ws.send('{"protocol":"json","version":1}\x1e'))
        ws.on('message', () => { ws.close(); })
        ws.on('close', resolve); ws.on('error', reject)
      })
      connects++
    } catch { failed++ }
  }
}
await Promise.all(Array.from({ length: lanes }, lane))
console.log(JSON.stringify({ connects, failed, perSecond: connects / seconds }))
process.exit(0)
