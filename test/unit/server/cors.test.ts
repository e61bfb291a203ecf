import { createServer, request } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { Cors } from '../../../src/server/cors.js'

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

const APP = 'https://app.example.com'

describe('Cors.isAllowed', () => {
  it.each([
    [[APP], APP, true],
    [[APP], 'https://APP.example.com', true],
    [['https://App.Example.com/'], APP, true],
    [[APP], 'https://evil.example.com', false],
    [[APP], 'http://app.example.com', false],
    [[APP], 'https://app.example.com:8443', false],
    [[APP], 'null', false],
    [[APP], undefined, true],
    [[], 'https://anywhere.example', true],
  ])('with %j allows %s: %s', (origins, origin, allowed) => {
    expect(new Cors(origins).isAllowed(origin)).toBe(allowed)
  })
})

describe('Cors.handle', () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.allSettled(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  })

  /** A loopback server that runs Cors and answers 200 "handler" when told to continue. */
  async function serve(origins: readonly string[]): Promise<(method: string, headers?: Record<string, string>) => Promise<Answer>> {
    const cors = new Cors(origins)
    const server = createServer((req, res) => {
      if (cors.handle(req, res) === 'continue') res.writeHead(200, { 'Content-Type': 'text/plain' }).end('handler')
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

  it('echoes any origin when no list is configured, never *', async () => {
    const call = await serve([])
    const answer = await call('POST', { Origin: 'https://anywhere.example' })
    expect(answer.status).toBe(200)
    expect(answer.headers['access-control-allow-origin']).toBe('https://anywhere.example')
  })

  it('refuses a denied origin with 403 and no CORS headers', async () => {
    const call = await serve([APP])
    const answer = await call('POST', { Origin: 'https://evil.example.com' })
    expect(answer.status).toBe(403)
    expect(answer.body).toBe("Origin 'https://evil.example.com' is not allowed.")
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
