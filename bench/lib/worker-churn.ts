/**
 * Connection churn from a load worker: `lanes` closed loops, each connecting, waiting until the
 * connection is ready (SignalR: negotiate with the bearer token when the target negotiates, then
 * the WebSocket with `access_token`, then the JSON handshake; Socket.IO: the upgrade with
 * `access_token`, the open packet and the namespace join), then closing it and waiting for the
 * close, for a bounded time. Every attempt is counted: connected, or failed with its reason.
 */
import { Agent, request as httpRequest } from 'node:http'
import { Histogram } from './histogram.js'
import type { ClientKind } from './load-pool.js'
import { nowMicros } from './protocol.js'
import { closeClient, openOne, withToken } from './raw-client.js'
import type { Client } from './raw-client.js'

export interface ChurnRequest {
  readonly client: ClientKind
  readonly wsUrl: string
  /** `POST <url>` (with `?negotiateVersion=1`) before each WebSocket, or undefined when the target has no negotiate. */
  readonly negotiateUrl?: string
  readonly tokens: readonly string[]
  readonly lanes: number
  readonly durationMs: number
}

export interface ChurnCounts {
  attempts: number
  connects: number
  failed: number
  errors: Record<string, number>
  seconds: number
  histogram: ReturnType<Histogram['toJSON']>
}

const ignore = { record: () => undefined }
// Negotiate over kept-alive connections, as a browser's HTTP/1.1 does; node:http costs the load core less than fetch.
const agent = new Agent({ keepAlive: true, maxSockets: 256 })

/** `POST url` with the bearer token; resolves with the connection token of the answer. */
function negotiate(url: string, token: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', agent, headers: { Authorization: `Bearer ${token}`, 'Content-Length': 0 }, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`negotiate ${res.statusCode}`))
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { connectionToken?: string }
        if (body.connectionToken) resolve(body.connectionToken)
        else reject(new Error('negotiate without connectionToken'))
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('negotiate timeout')))
    req.on('error', reject)
    req.end()
  })
}

async function connectOnce(request: ChurnRequest, token: string): Promise<Client> {
  let url = request.wsUrl
  if (request.negotiateUrl) url = `${url}?id=${encodeURIComponent(await negotiate(request.negotiateUrl, token))}`
  return openOne(withToken(url, token), request.client, -1, ignore)
}


export async function runChurn(request: ChurnRequest): Promise<ChurnCounts> {
  const histogram = new Histogram()
  const errors = new Map<string, number>()
  let attempts = 0
  let connects = 0
  let failed = 0
  const t0 = performance.now()
  const end = t0 + request.durationMs
  const lane = async (): Promise<void> => {
    while (performance.now() < end) {
      const token = request.tokens[attempts % request.tokens.length]!
      attempts += 1
      const started = nowMicros()
      try {
        const client = await connectOnce(request, token)
        histogram.record(nowMicros() - started)
        connects += 1
        await closeClient(client)
      } catch (error) {
        failed += 1
        const key = error instanceof Error ? error.message : String(error)
        errors.set(key, (errors.get(key) ?? 0) + 1)
      }
    }
  }
  await Promise.all(Array.from({ length: request.lanes }, lane))
  return { attempts, connects, failed, errors: Object.fromEntries(errors), seconds: (performance.now() - t0) / 1000, histogram: histogram.toJSON() }
}
