// Starts IMService with an IPC channel, opens N idle raw connections, prints heap per connection.
// A second argument sends browser-like headers with a Cookie of that many bytes (what the request
// snapshot behind this.context.http keeps); IM_BENCH_PORT moves the node off port 5874, and
// IM_BENCH_PATH connects to another hub route (with IM_HUBS_DIR naming where its hub lives).
import { fork } from 'node:child_process'
import WebSocket from 'ws'
const N = Number(process.argv[2] ?? 5000), cookieBytes = Number(process.argv[3] ?? 0), port = Number(process.env.IM_BENCH_PORT ?? 5874)
const headers = cookieBytes > 0 ? { Cookie: `session=${'s'.repeat(Math.max(0, cookieBytes - 8))}`, 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'Accept-Language': 'en-US,en;q=0.9' } : {}
const env = { ...process.env, IM_PORT: String(port), IM_HOST: '127.0.0.1', IM_NATS_URL: 'nats://127.0.0.1:4222', IM_MAX_CONNECTIONS_PER_ADDRESS: '100000', IM_LOG_LEVEL: 'warn' }
const child = fork(new URL('../../cli/bin.mjs', import.meta.url).pathname, ['serve'], { env, cwd: new URL('../..', import.meta.url).pathname, execArgv: ['--expose-gc', '--import', new URL('../lib/mem-probe.mjs', import.meta.url).pathname], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
const mem = () => new Promise((r) => { child.once('message', r); child.send('mem') })
for (let i = 0; i < 100; i++) { try { await fetch(`http://127.0.0.1:${port}/healthz`); break } catch { await new Promise((r) => setTimeout(r, 100)) } }
const base = await mem()
const sockets = []
for (let b = 0; b < N; b += 500) await Promise.all(Array.from({ length: Math.min(500, N - b) }, () => new Promise((resolve, reject) => {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${process.env.IM_BENCH_PATH ?? '/signalr-hubs/default'}`, { perMessageDeflate: false, headers })
  ws.on('open', () => ws.send('{"protocol":"json","version":1}\x1e')); ws.once('message', resolve); ws.on('error', reject); sockets.push(ws)
})))
await new Promise((r) => setTimeout(r, 1500))
const after = await mem()
console.log(`heap/conn ${((after.heapUsed - base.heapUsed) / N / 1024).toFixed(2)} KB, rss/conn ${((after.rss - base.rss) / N / 1024).toFixed(2)} KB`)
for (const s of sockets) s.terminate()
child.kill('SIGKILL'); process.exit(0)
