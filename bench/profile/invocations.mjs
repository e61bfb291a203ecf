// 1k raw SignalR clients, each invoking publish(topic, n) in a closed loop.
import WebSocket from 'ws'
const port = Number(process.argv[2]), seconds = Number(process.argv[3] ?? 8), clients = 1000
let completions = 0, errors = 0
const end = Date.now() + seconds * 1000 + 2000
const sockets = []
await Promise.all(Array.from({ length: clients }, (_, c) => new Promise((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/signalr-hubs/default`, { perMessageDeflate: false })
  let id = 0, started = false
  const invoke = () => { if (Date.now() < end && started2) ws.send(`{"type":1,"invocationId":"${++id}","target":"publish","arguments":["bench.t${c % 10}",${id}]}\x1e`) }
  let started2 = false
  ws.on('open', () => ws.send('{"protocol":"json","version":1}\x1e'))
  ws.on('message', (data) => {
    const text = data.toString()
    if (!started) { started = true; sockets.push({ go: () => { started2 = true; invoke() } }); return resolve() }
    for (const frame of text.split('\x1e')) {
      if (frame.startsWith('{"type":3')) { if (frame.includes('"error"')) errors++; else if (measuring) completions++; invoke() }
    }
  })
  ws.on('error', reject)
})))
let measuring = false
for (const s of sockets) s.go()
await new Promise((r) => setTimeout(r, 2000))
measuring = true
process.stdout.write('MEASURE_START\n')
await new Promise((r) => setTimeout(r, seconds * 1000))
measuring = false
process.stdout.write('MEASURE_END\n')
console.log(JSON.stringify({ completions, errors, perSecond: completions / seconds }))
process.exit(0)
