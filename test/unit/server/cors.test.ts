import { createServer, request } from 'node:http'
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createConsoleLogger } from '../../../src/logger.js'
import { Metrics } from '../../../src/metrics.js'
import { Cors, isSameOrigin } from '../../../src/server/cors.js'

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

const APP = 'https://app.example.com'
const EVIL = 'https://evil.example.com'
const REFUSED = (origin: string): string =>
  `Cross-origin request refused: the origin '${origin}' is not in this server's allowed origins (IM_CORS_ORIGINS (corsOrigins in im.config.ts)).`

/** A request as Cors sees it: only the headers matter. */
function requestWith(headers: Record<string, string>): IncomingMessage {
  return { headers, method: 'GET' } as unknown as IncomingMessage
}

describe('Cors.verdict', () => {
  it.each([
    [[APP], APP, undefined, 'listed'],
    [[APP], 'https://APP.example.com', undefined, 'listed'],
    [['https://App.Example.com/'], APP, undefined, 'listed'],
    [[APP], EVIL, undefined, 'refused'],
    [[APP], 'http://app.example.com', undefined, 'refused'],
    [[APP], 'https://app.example.com:8443', undefined, 'refused'],
    [[APP], 'null', undefined, 'refused'],
    [[APP], undefined, undefined, 'none'],
    [[], 'https://anywhere.example', undefined, 'refused'],
    [[], undefined, undefined, 'none'],
    [[], 'http://im.example.com:5000', 'im.example.com:5000', 'same'],
    [[], 'https://im.example.com', 'im.example.com', 'same'],
    [[], 'https://im.example.com', 'IM.example.com:443', 'same'],
    [[], 'https://im.example.com', 'other.example.com', 'refused'],
    [[], 'http://im.example.com:5001', 'im.example.com:5000', 'refused'],
    [['*'], 'https://anywhere.example', undefined, 'any'],
    [['*'], undefined, undefined, 'none'],
  ] as const)('with %j, Origin %s and Host %s: %s', (origins, origin, host, verdict) => {
    const headers: Record<string, string> = {}
    if (origin !== undefined) headers.origin = origin
    if (host !== undefined) headers.host = host
    expect(new Cors({ corsOrigins: origins }).verdict(requestWith(headers), '/hub')).toBe(verdict)
  })

  it('isListed counts only named origins, not *', () => {
    expect(new Cors({ corsOrigins: [APP] }).isListed('https://APP.example.com')).toBe(true)
    expect(new Cors({ corsOrigins: ['*'] }).isListed(APP)).toBe(false)
  })

  it.each([
    ['file:///x', 'x'],
    ['not a url', 'im.example.com'],
    ['https://im.example.com', ''],
    ['https://im.example.com', 'im.example.com/path'],
  ])('isSameOrigin(%j, %j) is false', (origin, host) => {
    expect(isSameOrigin(origin, host)).toBe(false)
  })

  it('counts every refusal and logs the first of each origin, naming the setting that allows it', () => {
    const lines: string[] = []
    const metrics = new Metrics()
    const cors = new Cors({ corsOrigins: [], logger: createConsoleLogger({ write: (line) => lines.push(line) }), metrics })
    for (let i = 0; i < 5; i++) cors.verdict(requestWith({ origin: EVIL }), '/signalr-hubs/default')
    cors.verdict(requestWith({ origin: 'https://other.example' }), '/signalr-hubs/default/negotiate')
    expect(metrics.get('cors_refused')).toBe(6)
    expect(lines.map((line) => line.slice(line.indexOf(' ') + 1))).toEqual([
      `warn  refused a cross-origin request; to allow its origin, add it to IM_CORS_ORIGINS (corsOrigins in im.config.ts) origin="${EVIL}" path="/signalr-hubs/default"`,
      'warn  refused a cross-origin request; to allow its origin, add it to IM_CORS_ORIGINS (corsOrigins in im.config.ts) origin="https://other.example" path="/signalr-hubs/default/negotiate"',
    ])
  })

  it('stops logging new origins after 1000 of them, but keeps counting', () => {
    let logged = 0
    const metrics = new Metrics()
    const logger = { debug() {}, info() {}, error() {}, warn: () => void logged++ }
    const cors = new Cors({ corsOrigins: [], logger, metrics })
    for (let i = 0; i < 1500; i++) cors.verdict(requestWith({ origin: `https://o${i}.example` }), '/hub')
    expect(logged).toBe(1000)
    expect(metrics.get('cors_refused')).toBe(1500)
  })
})

describe('Cors.handle', () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.allSettled(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  })

  /** A loopback server that runs Cors and answers 200 "handler" when told to continue. */
  async function serve(origins: readonly string[]): Promise<(method: string, headers?: Record<string, string>) => Promise<Answer>> {
    const cors = new Cors({ corsOrigins: origins })
    const server = createServer((req, res) => {
      if (cors.handle(req, res, '/signalr-hubs/default/negotiate') === 'continue') res.writeHead(200, { 'Content-Type': 'text/plain' }).end('handler')
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as AddressInfo
    return (method, headers = {}) =>
      new Promise<Answer>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method, path: '/signalr-hubs/default/negotiate', headers }, (res) => {
          let body = ''
          res.setEncoding('utf8')
          res.on('data', (chunk: string) => (body += chunk))
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        })
        req.on('error', reject)
        req.end()
      })
  }

  it('echoes an allowed origin with credentials and lets the request through', async () => {
    const call = await serve([APP])
    const answer = await call('POST', { Origin: APP })
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('handler')
    expect(answer.headers['access-control-allow-origin']).toBe(APP)
    expect(answer.headers['access-control-allow-credentials']).toBe('true')
    expect(answer.headers['vary']).toBe('Origin')
  })

  it('refuses every cross-origin request when no list is configured, with the reason', async () => {
    const call = await serve([])
    const answer = await call('POST', { Origin: 'https://anywhere.example' })
    expect(answer.status).toBe(403)
    expect(answer.body).toBe(REFUSED('https://anywhere.example'))
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
    expect(answer.headers['x-content-type-options']).toBe('nosniff')
  })

  it('lets a same-origin request through without CORS headers when no list is configured', async () => {
    const call = await serve([])
    const answer = await call('POST', { Origin: 'http://im.example.com:5000', Host: 'im.example.com:5000' })
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('handler')
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('answers * without credentials when every origin is allowed', async () => {
    const call = await serve(['*'])
    const answer = await call('POST', { Origin: 'https://anywhere.example' })
    expect(answer.status).toBe(200)
    expect(answer.headers['access-control-allow-origin']).toBe('*')
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
    const preflight = await call('OPTIONS', { Origin: 'https://anywhere.example', 'Access-Control-Request-Headers': 'x-requested-with' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe('*')
    expect(preflight.headers['access-control-allow-credentials']).toBeUndefined()
    expect(preflight.headers['access-control-allow-headers']).toBe('x-requested-with')
  })

  it('refuses a denied origin with 403 and no CORS headers', async () => {
    const call = await serve([APP])
    const answer = await call('POST', { Origin: EVIL })
    expect(answer.status).toBe(403)
    expect(answer.body).toBe(REFUSED(EVIL))
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('lets a request without Origin through without CORS headers', async () => {
    const call = await serve([APP])
    const answer = await call('POST')
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('handler')
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
    expect(answer.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('answers an allowed preflight itself with 204, the methods, the requested headers and a max age', async () => {
    const call = await serve([APP])
    const answer = await call('OPTIONS', {
      Origin: APP,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, x-requested-with, x-signalr-user-agent',
    })
    expect(answer.status).toBe(204)
    expect(answer.body).toBe('')
    expect(answer.headers['access-control-allow-origin']).toBe(APP)
    expect(answer.headers['access-control-allow-credentials']).toBe('true')
    expect(answer.headers['access-control-allow-methods']).toBe('GET, POST, DELETE, OPTIONS')
    expect(answer.headers['access-control-allow-headers']).toBe('authorization, x-requested-with, x-signalr-user-agent')
    expect(answer.headers['access-control-max-age']).toBe('600')
  })

  it('sends no Allow-Headers on a preflight that requests none', async () => {
    const call = await serve([APP])
    const answer = await call('OPTIONS', { Origin: APP, 'Access-Control-Request-Method': 'GET' })
    expect(answer.status).toBe(204)
    expect(answer.headers['access-control-allow-headers']).toBeUndefined()
  })

  it('refuses a preflight from a denied origin with 403', async () => {
    const call = await serve([APP])
    const answer = await call('OPTIONS', { Origin: 'https://evil.example.com', 'Access-Control-Request-Method': 'POST' })
    expect(answer.status).toBe(403)
    expect(answer.headers['access-control-allow-methods']).toBeUndefined()
    expect(answer.headers['access-control-allow-origin']).toBeUndefined()
  })
})
