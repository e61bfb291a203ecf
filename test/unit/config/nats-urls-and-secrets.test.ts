import { describe, expect, it } from 'vitest'
import type { ImConfigInput } from '../../../src/config/config.js'
import { resolveConfig } from '../../../src/config/load-config.js'
import { ImErrorCode } from '../../../src/errors.js'

function expectInvalid(input: ImConfigInput, env: Record<string, string>, message: string): void {
  expect(() => resolveConfig(input, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message }))
}

describe('NATS server URLs', () => {
  it.each([
    ['nats://a:4222', 'nats://a:4222'],
    ['tls://a:4222', 'tls://a:4222'],
    ['nats://user:pass@a:4222', 'nats://user:pass@a:4222'],
    ['nats://t0ken@a', 'nats://t0ken@a'],
    ['nats://[::1]:4222', 'nats://[::1]:4222'],
    // Bare host[:port] means nats://, as nats.js and the NATS CLI read it.
    ['a:4222', 'a:4222'],
    ['nats', 'nats'],
    ['nats:4222', 'nats:4222'],
    ['[::1]:4222', '[::1]:4222'],
    [' nats://a:4222 , b:4223 ', 'nats://a:4222,b:4223'],
    ['tls://a:4222,tls://b:4222', 'tls://a:4222,tls://b:4222'],
  ])('takes %j', (value, url) => {
    expect(resolveConfig({}, { IM_NATS_URL: value }).nats).toMatchObject({ url, explicit: true })
    expect(resolveConfig({ nats: { url: value } }, {}).nats.url).toBe(url)
  })

  it.each([
    ['nats//host', 'IM_NATS_URL entry "nats//host" is not a URL: its scheme must end in "://" (did you mean "nats://host"?)'],
    ['nats:/host:4222', 'IM_NATS_URL entry "nats:/host:4222" is not a URL: its scheme must end in "://" (did you mean "nats://host:4222"?)'],
    ['tls//user:hunter2@host', 'IM_NATS_URL entry "tls//user:***@host" is not a URL: its scheme must end in "://" (did you mean "tls://user:***@host"?)'],
    ['http://host:4222', 'IM_NATS_URL entry "http://host:4222" has the scheme http://; a NATS server URL starts with nats:// or tls://'],
    ['https://host', 'IM_NATS_URL entry "https://host" has the scheme https://; a NATS server URL starts with nats:// or tls://'],
    [
      'ws://host:8080',
      "IM_NATS_URL entry \"ws://host:8080\" uses ws://, which IMService cannot dial: it reaches NATS over TCP, so give the server's client port with nats:// or tls://",
    ],
    [
      'nats://a:4222,wss://b',
      "IM_NATS_URL entry \"wss://b\" uses wss://, which IMService cannot dial: it reaches NATS over TCP, so give the server's client port with nats:// or tls://",
    ],
    ['nats://a:4222/path', 'IM_NATS_URL entry "nats://a:4222/path" has a path, query or fragment; a NATS server URL is scheme://host:port'],
    ['nats://a:99999', 'IM_NATS_URL entry "nats://a:99999" is not a valid URL (a port is 1 to 65535): write nats://host:4222'],
    ['nats://a:0', 'IM_NATS_URL entry "nats://a:0" has port 0; give the port the server listens on'],
    ['nats://', 'IM_NATS_URL entry "nats://" names no host: write nats://host:4222'],
    ['host/path', 'IM_NATS_URL entry "host/path" is not a server address: write nats://host:4222, tls://host:4222 or host:4222'],
    ['nats://user:hunter2@a:4222, ,nats://b', 'IM_NATS_URL must be one or more comma separated server URLs, got "nats://user:***@a:4222, ,nats://b"'],
    ['tls://a:4222,nats://b:4222', 'IM_NATS_URL mixes tls:// with plain servers, got "tls://a:4222,nats://b:4222": write every entry with tls:// or none'],
    ['tls://a:4222,b:4222', 'IM_NATS_URL mixes tls:// with plain servers, got "tls://a:4222,b:4222": write every entry with tls:// or none'],
  ])('refuses %j', (value, message) => {
    expectInvalid({}, { IM_NATS_URL: value }, message)
  })

  it('names the file key when the file is wrong', () => {
    expectInvalid({ nats: { url: 'nats//host' } }, {}, 'nats.url (IM_NATS_URL) entry "nats//host" is not a URL: its scheme must end in "://" (did you mean "nats://host"?)')
  })

  it('keeps the JWKS URL to http(s)', () => {
    expectInvalid({}, { IM_JWT_JWKS_URL: 'nats://idp/jwks' }, 'IM_JWT_JWKS_URL must be an http(s) URL, got "nats://idp/jwks"')
    expect(resolveConfig({}, { IM_JWT_JWKS_URL: 'http://idp.internal/jwks' }).jwt?.jwksUrl).toBe('http://idp.internal/jwks')
  })
})

describe('HS256 secret length (RFC 7518 §3.2: at least the 256 bits of the hash)', () => {
  const tooShort = (label: string, bytes: number): string =>
    `${label} is too short for HS256: ${bytes} bytes, where RFC 7518 §3.2 requires at least 32 (256 bits, the size of the hash); generate one with \`openssl rand -base64 32\``

  it.each([
    ['abc', 3],
    ['x'.repeat(31), 31],
    // Counted in UTF-8 bytes, as the verifier keys HMAC with them: 15 'é' are 30 bytes.
    ['é'.repeat(15), 30],
  ])('refuses %j without echoing it', (secret, bytes) => {
    expectInvalid({}, { IM_JWT_SECRET: secret }, tooShort('IM_JWT_SECRET', bytes))
    expectInvalid({ jwt: { secret } }, {}, tooShort('jwt.secret (IM_JWT_SECRET)', bytes))
  })

  it('takes 32 bytes and more', () => {
    expect(resolveConfig({}, { IM_JWT_SECRET: 'x'.repeat(32) }).jwt?.secret).toBe('x'.repeat(32))
    expect(resolveConfig({}, { IM_JWT_SECRET: 'é'.repeat(16) }).jwt?.secret).toBe('é'.repeat(16))
  })

  it('does not check a file secret that an environment key source replaces', () => {
    expect(resolveConfig({ jwt: { secret: 'dev' } }, { IM_JWT_JWKS_URL: 'https://idp.example/jwks' }).jwt?.jwksUrl).toBe('https://idp.example/jwks')
  })
})
