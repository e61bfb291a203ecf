/**
 * The operator-surface attacks against real nodes on this machine, bounded in count and time:
 * forged publishes from loopback, a cross-site form post, cross-origin negotiate and WebSocket
 * upgrades, /metrics on the public port, and a flood of 2,000 refused tokens (log lines counted).
 * Prints one line per check with what the node answered.
 *
 *   node --max-old-space-size=1024 --import tsx bench/attacks/operator-surface.ts
 *
 * Every attack targets 127.0.0.1. One node binds 0.0.0.0 (the default host) for a few seconds on
 * a free port, because that is the setting under test.
 */
import { request } from 'node:http'
import WebSocket from 'ws'
import { DefaultHub } from '../../hubs/default-hub.js'
import { resolveConfig } from '../../src/config/load-config.js'
import { createConsoleLogger } from '../../src/logger.js'
import { startServer } from '../../src/server.js'
import type { ImServer } from '../../src/server.js'

const EVIL = 'https://evil.example'
const FORGED: ReadonlyArray<readonly [string, string, unknown]> = [
  ['client envelope as user "admin"', 'im.default.receive.payments.refund', { hub: 'default', method: 'publish', topic: 'payments.refund', args: [{ amount: 1e6 }], connectionId: 'x', userId: 'admin' }],
  ['phishing broadcast', 'im.default.send', { method: 'notify', args: ['Session expired, log in at https://evil.example'] }],
  ['internal cluster subject', 'im.default.node.abc.claim', { token: 'x' }],
  ["another application's subject", 'billing.invoice.cancel', { invoice: 42 }],
  ['reply inbox', '_INBOX.x', {}],
]

async function node(env: Record<string, string>, lines: string[] = []): Promise<ImServer> {
  const config = resolveConfig({ port: 0, nats: { url: 'nats://127.0.0.1:1' } }, env)
  const logger = createConsoleLogger({ write: (line) => void lines.push(line) })
  return startServer({ config: { ...config, nats: { ...config.nats, explicit: false } }, hubs: [DefaultHub], logger })
}

function post(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  return fetch(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(5000) }).then(async (r) => ({ status: r.status, text: await r.text(), headers: r.headers }))
}

/** Status of a raw WebSocket upgrade (101 when accepted). */
function upgradeStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url.replace(/^http/, 'ws'), { origin, handshakeTimeout: 5000 })
    ws.on('open', () => {
      ws.terminate()
      resolve(101)
    })
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0)
      ws.terminate()
    })
    ws.on('error', () => resolve(0))
  })
}

/** `count` negotiates with a bad token, `parallel` at a time. */
async function refusedTokens(url: string, count: number, parallel: number): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      await new Promise<void>((resolve) => {
        const req = request(`${url}/signalr-hubs/default/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: 'Bearer not.a.token' } }, (res) => {
          res.resume()
          res.on('end', resolve)
        })
        req.on('error', () => resolve())
        req.end()
      })
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
}

const out = (line: string): void => void process.stdout.write(line + '\n')

const loopbackNode = await node({ IM_HOST: '127.0.0.1' })
const defaultHostNode = await node({ IM_HOST: '0.0.0.0' })
try {
  for (const [label, server] of [['node on 127.0.0.1', loopbackNode], ['node on 0.0.0.0 (default host)', defaultHostNode]] as const) {
    out(`POST /api/publish from loopback without a key, ${label}:`)
    for (const [what, subject, payload] of FORGED) {
      const answer = await post(`${server.url}/api/publish`, JSON.stringify({ subject, payload }), { 'Content-Type': 'application/json' })
      out(`  ${answer.status}  ${what} (${subject}): ${answer.text.slice(0, 160)}`)
    }
  }
  const crossSite = await post(`${loopbackNode.url}/api/publish`, JSON.stringify({ subject: 'im.default.send', payload: { method: 'notify', args: ['csrf'] } }), {
    'Content-Type': 'text/plain',
    Origin: EVIL,
  })
  out(`cross-site text/plain POST /api/publish (Origin ${EVIL}): ${crossSite.status} ${crossSite.text.slice(0, 160)}`)
  const negotiate = await post(`${defaultHostNode.url}/signalr-hubs/default/negotiate?negotiateVersion=1`, '', { Origin: EVIL })
  out(
    `negotiate with Origin ${EVIL}, IM_CORS_ORIGINS unset: ${negotiate.status}, ` +
      `Access-Control-Allow-Origin ${negotiate.headers.get('access-control-allow-origin')}, Allow-Credentials ${negotiate.headers.get('access-control-allow-credentials')}`,
  )
  out(`WebSocket upgrade with Origin ${EVIL}, IM_CORS_ORIGINS unset: ${await upgradeStatus(`${defaultHostNode.url}/signalr-hubs/default`, EVIL)}`)
  out(`nosniff on negotiate: ${negotiate.headers.get('x-content-type-options')}, Cache-Control ${negotiate.headers.get('cache-control')}`)
} finally {
  await Promise.all([loopbackNode.close(), defaultHostNode.close()])
}

const withInternal = await node({ IM_HOST: '127.0.0.1', IM_INTERNAL_PORT: '0' })
try {
  const metrics = await fetch(`${withInternal.url}/metrics`, { signal: AbortSignal.timeout(5000) })
  out(`GET /metrics on the public port with IM_INTERNAL_PORT set: ${metrics.status}`)
} finally {
  await withInternal.close()
}

const lines: string[] = []
const flooded = await node({ IM_HOST: '127.0.0.1', IM_JWT_SECRET: 'a-secret-of-at-least-32-bytes-for-hs256!!' }, lines)
const started = Date.now()
await refusedTokens(flooded.url, 2000, 20)
const seconds = ((Date.now() - started) / 1000).toFixed(1)
const duringFlood = lines.length
const metricsText = await (await fetch(`${flooded.url}/metrics`, { signal: AbortSignal.timeout(5000) })).text().catch(() => '')
await flooded.close()
out(`2,000 refused tokens in ${seconds} s: ${duringFlood} log lines during the flood, ${lines.length} after shutdown`)
for (const line of lines.filter((l) => l.includes('suppressed'))) out(`  ${line.slice(25, 160)}`)
for (const line of metricsText.split('\n').filter((l) => /unauthorized|suppressed|cors_refused|publish_refused/.test(l))) out(`  ${line}`)
