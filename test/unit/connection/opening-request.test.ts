import { describe, expect, it } from 'vitest'
import { OpeningRequest, parseCookies, REDACTED, withoutSecrets } from '../../../src/connection/opening-request.js'

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl'

function capture(headers: Record<string, string | string[] | undefined>, search = '', transport = 'WebSockets'): OpeningRequest {
  return OpeningRequest.capture(headers, '/signalr-hubs/default', search, '127.0.0.1', transport)
}

describe('OpeningRequest', () => {
  it('keeps headers by lower-cased name and redacts Authorization and Proxy-Authorization', () => {
    const http = capture({ Host: 'gw', 'X-Tenant': 'acme', authorization: `Bearer ${JWT}`, 'Proxy-Authorization': 'Basic dTpw', 'x-gone': undefined }).snapshot()
    expect(http.headers).toEqual({ host: 'gw', 'x-tenant': 'acme', authorization: REDACTED, 'proxy-authorization': REDACTED })
    expect(REDACTED).toBe('[redacted]')
    expect(JSON.stringify(http)).not.toContain(JWT)
  })

  it("leaves out the WebSocket handshake's own headers", () => {
    const handshake = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-extensions': 'permessage-deflate' }
    expect(capture({ ...handshake, 'sec-websocket-protocol': 'chat', host: 'gw' }).snapshot().headers).toEqual({ 'sec-websocket-protocol': 'chat', host: 'gw' })
  })

  it('joins a header node:http gives as a list', () => {
    expect(capture({ 'x-forwarded-for': ['10.0.0.1', '10.0.0.2'] }).snapshot().headers['x-forwarded-for']).toBe('10.0.0.1, 10.0.0.2')
  })

  it('leaves access_token and id out of the query, whatever their case and encoding, and joins repeated values', () => {
    const http = capture({}, `?id=conn-token&ACCESS_TOKEN=${JWT}&acce%73s_token=x&lang=en&tag=a&tag=b&q=a+b%21&identity=kept`).snapshot()
    expect(http.query).toEqual({ lang: 'en', tag: 'a,b', q: 'a b!', identity: 'kept' })
    expect(JSON.stringify(http)).not.toContain(JWT)
    expect(JSON.stringify(http)).not.toContain('conn-token')
  })

  it('names path, client address and transport', () => {
    const http = OpeningRequest.capture({}, '/hubs/echo', '', '::1', 'LongPolling').snapshot()
    expect(http).toMatchObject({ path: '/hubs/echo', remoteAddress: '::1', transport: 'LongPolling', query: {}, cookies: {} })
  })

  it('is frozen and the same object on every read', () => {
    const request = capture({ cookie: 'a=1' }, '?x=1')
    const http = request.snapshot()
    expect(request.snapshot()).toBe(http)
    for (const part of [http, http.headers, http.query, http.cookies]) expect(Object.isFrozen(part)).toBe(true)
    expect(() => {
      ;(http.headers as Record<string, string>)['x-injected'] = 'y'
    }).toThrow(TypeError)
  })

  it('reads names such as __proto__ and constructor as plain keys', () => {
    const http = capture({ cookie: '__proto__=p; constructor=c' }, '?__proto__=q&toString=t').snapshot()
    expect(http.cookies.__proto__).toBe('p')
    expect(http.cookies.constructor).toBe('c')
    expect(http.query.__proto__).toBe('q')
    expect(http.query.toString).toBe('t')
    expect(capture({}).snapshot().query.constructor).toBeUndefined()
  })
})

describe('withoutSecrets', () => {
  it.each([
    ['', ''],
    ['?', ''],
    ['?a=1&b=2', 'a=1&b=2'],
    ['?id=x', ''],
    ['?a=1&id=x&access_token=y&b', 'a=1&b'],
    ['?Id=x&a=%ZZ', 'a=%ZZ'],
  ])('%j -> %j', (search, kept) => {
    expect(withoutSecrets(search)).toBe(kept)
  })
})

describe('parseCookies', () => {
  it.each([
    [undefined, {}],
    ['', {}],
    ['a=1', { a: '1' }],
    ['a=1; b=2;c=3', { a: '1', b: '2', c: '3' }],
    ['a=1; a=2', { a: '1' }],
    ['greeting=hello%20world; bad=%E0%A4%A', { greeting: 'hello world', bad: '%E0%A4%A' }],
    ['q="quoted value"; plus=a+b', { q: 'quoted value', plus: 'a+b' }],
    ['novalue; =nameless; empty=', { empty: '' }],
    ['  spaced = v ; x=y=z', { spaced: 'v', x: 'y=z' }],
  ])('%j', (header, cookies) => {
    expect(parseCookies(header)).toEqual(cookies)
  })
})
