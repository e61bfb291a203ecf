/**
 * Authentication and TLS to NATS against a real nats-server: a user nkey (seed file) and mutual
 * TLS (CA, server and client certificates made with openssl). The node connects with the right
 * files, is refused without them and says why; a missing file stops it at start with the setting's
 * name; /healthz/ready and /metrics name the server it uses.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAccount, createOperator, createUser } from '@nats-io/nkeys'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createNatsBus } from '../../src/bus/nats-bus.js'
import { readNatsCredentials } from '../../src/bus/nats-credentials.js'
import type { Logger, LogFields } from '../../src/logger.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'

interface Line {
  readonly level: string
  readonly message: string
  readonly fields?: LogFields
}

function recordingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = []
  const at =
    (level: string) =>
    (message: string, fields?: LogFields): void => {
      lines.push({ level, message, fields })
    }
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines }
}

/** Polls `check` until it returns a value; bounded. */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'im-nats-security-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function file(name: string, text: string | Uint8Array): string {
  const path = join(dir, name)
  writeFileSync(path, text, { mode: 0o600 })
  return path
}

describe('nkey authentication', () => {
  const user = createUser()
  const seedFile = file('user.nk', new TextDecoder().decode(user.getSeed()))
  const wrongSeedFile = file('other.nk', new TextDecoder().decode(createUser().getSeed()))
  let nats: NatsServer
  beforeAll(async () => {
    nats = await startNatsServer({ config: `authorization { users = [ { nkey: ${user.getPublicKey()} } ] }\n` })
  })
  afterAll(() => nats.stop())

  it('connects with the seed file; /healthz/ready and /metrics name the server', async () => {
    await using node = await startTestServer({ natsUrl: nats.url, config: { nats: { nkeySeedFile: seedFile } } })
    const ready = await eventually(async () => {
      const res = await fetch(`${node.url}/healthz/ready`)
      return res.status === 200 ? ((await res.json()) as { server?: string }) : undefined
    })
    expect(ready.server).toBe(nats.url)
    const metrics = await (await fetch(`${node.url}/metrics`)).text()
    expect(metrics).toContain(`im_bus_server_info{server="${nats.url}"} 1`)
    expect(metrics).toContain('im_bus_connected 1')
  })

  it('is refused without a seed, and with another user\'s seed, with the server\'s reason', async () => {
    await expect(createNatsBus({ servers: nats.url, retryForever: false, connectTimeoutMs: 2000 })).rejects.toThrow(/Authorization Violation/i)
    const wrong = readNatsCredentials({ nkeySeedFile: wrongSeedFile })
    await expect(createNatsBus({ servers: nats.url, retryForever: false, connectTimeoutMs: 2000, authenticator: wrong.authenticator })).rejects.toThrow(/Authorization Violation/i)
  })

  it('a node without the seed stays not ready, says why in its log and on /healthz/ready', async () => {
    const { logger, lines } = recordingLogger()
    await using node = await startTestServer({ natsUrl: nats.url, logger })
    const res = await fetch(`${node.url}/healthz/ready`)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'not ready', server: nats.url, reasons: [`bus connecting to ${nats.url}`] })
    const warning = await eventually(async () => lines.find((line) => line.message === 'NATS not reachable; retrying'))
    expect(String(warning.fields?.error)).toMatch(/Authorization Violation/i)
    // The seed is a secret: nothing the node logs may contain one.
    expect(JSON.stringify(lines)).not.toMatch(/SU[A-Z2-7]{50,}/)
  })

  it('a missing or malformed seed file stops the start with the setting named', () => {
    expect(() => readNatsCredentials({ nkeySeedFile: join(dir, 'absent.nk') })).toThrow(`IM_NATS_NKEY_SEED_FILE (nats.nkeySeedFile): ${join(dir, 'absent.nk')} does not exist`)
    expect(() => readNatsCredentials({ nkeySeedFile: file('bad.nk', 'not a seed') })).toThrow(/IM_NATS_NKEY_SEED_FILE \(nats.nkeySeedFile\): .* does not hold an nkey seed/)
    expect(() => readNatsCredentials({ nkeySeedFile: dir })).toThrow(/IM_NATS_NKEY_SEED_FILE \(nats.nkeySeedFile\): .* is a directory/)
  })

  it('startTestServer refuses a missing seed file before any connection attempt', async () => {
    await expect(startTestServer({ natsUrl: nats.url, config: { nats: { nkeySeedFile: join(dir, 'absent.nk') } } })).rejects.toThrow(/IM_NATS_NKEY_SEED_FILE/)
  })
})

/** A CA, and server and client certificates it signs, made with openssl into `dir`. */
function makeCertificates(): { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; strangerCert: string; strangerKey: string } {
  const run = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 20_000 })
  }
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=im-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem')
  const sign = (name: string, cn: string, extensions: string, ca = 'ca'): void => {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    writeFileSync(join(dir, `${name}.ext`), extensions)
    run('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`)
  }
  sign('server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  sign('client', 'im-node', 'extendedKeyUsage=clientAuth\n')
  // A client certificate from a CA the server does not trust.
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=other-ca', '-keyout', 'other-ca.key', '-out', 'other-ca.pem')
  sign('stranger', 'stranger', 'extendedKeyUsage=clientAuth\n', 'other-ca')
  const at = (name: string): string => join(dir, name)
  return {
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    strangerCert: at('stranger.pem'),
    strangerKey: at('stranger.key'),
  }
}

describe('mutual TLS', () => {
  let certs: ReturnType<typeof makeCertificates>
  let nats: NatsServer
  beforeAll(async () => {
    certs = makeCertificates()
    nats = await startNatsServer({
      config: `tls {\n  cert_file: "${certs.serverCert}"\n  key_file: "${certs.serverKey}"\n  ca_file: "${certs.ca}"\n  verify: true\n  timeout: 2\n}\n`,
    })
  }, 60_000)
  afterAll(() => nats?.stop())

  it('connects with CA, client certificate and key; the nats:// URL is upgraded to TLS', async () => {
    await using node = await startTestServer({
      natsUrl: nats.url,
      config: { nats: { tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey } } },
    })
    const ready = await eventually(async () => {
      const res = await fetch(`${node.url}/healthz/ready`)
      return res.status === 200 ? ((await res.json()) as { server?: string }) : undefined
    })
    expect(ready.server).toBe(nats.url)
    expect(await (await fetch(`${node.url}/metrics`)).text()).toContain(`im_bus_server_info{server="${nats.url}"} 1`)
  })

  it('is refused without a client certificate, with one from another CA, and without the CA', async () => {
    const dial = (tls: Parameters<typeof readNatsCredentials>[0]['tls']) =>
      createNatsBus({ servers: nats.url, retryForever: false, connectTimeoutMs: 2000, tlsMaterial: readNatsCredentials({ tls }).tls })
    // Under TLS 1.3 the server's refusal reaches nats.js as a timeout: the message says what to check.
    await expect(dial({ caFile: certs.ca })).rejects.toThrow(/NATS not reachable at .*the server may require a client certificate: set IM_NATS_TLS_CERT and IM_NATS_TLS_KEY/)
    await expect(dial({ caFile: certs.ca, certFile: certs.strangerCert, keyFile: certs.strangerKey })).rejects.toThrow(
      /NATS not reachable at .*the server may not trust the client certificate \(IM_NATS_TLS_CERT, IM_NATS_TLS_KEY\)/,
    )
    // The server's certificate is not signed by a CA the node trusts (the system's).
    await expect(dial({ certFile: certs.clientCert, keyFile: certs.clientKey })).rejects.toThrow(/certificate/i)
  })

  it('a node without the client certificate stays not ready and logs why', async () => {
    const { logger, lines } = recordingLogger()
    await using node = await startTestServer({ natsUrl: nats.url, logger, config: { nats: { tls: { caFile: certs.ca } } } })
    const warning = await eventually(async () => lines.find((line) => line.message === 'NATS not reachable; retrying'))
    expect(String(warning.fields?.error)).toMatch(/the server may require a client certificate: set IM_NATS_TLS_CERT and IM_NATS_TLS_KEY/)
    const res = await fetch(`${node.url}/healthz/ready`)
    expect(res.status).toBe(503)
    expect(JSON.stringify(lines)).not.toContain('PRIVATE KEY')
  })

  it('names the setting of a missing or non-PEM TLS file', () => {
    expect(() => readNatsCredentials({ tls: { caFile: join(dir, 'absent.pem') } })).toThrow(`IM_NATS_TLS_CA (nats.tls.caFile): ${join(dir, 'absent.pem')} does not exist`)
    expect(() => readNatsCredentials({ tls: { certFile: file('not.pem', 'hello'), keyFile: certs.clientKey } })).toThrow(/IM_NATS_TLS_CERT \(nats.tls.certFile\): .* is not a PEM file/)
    expect(() => readNatsCredentials({ tls: { certFile: certs.clientCert, keyFile: join(dir, 'absent.key') } })).toThrow(/IM_NATS_TLS_KEY \(nats.tls.keyFile\)/)
  })
})

/** A signed NATS JWT (header `ed25519-nkey`), as `nsc` writes them. */
function natsJwt(signer: ReturnType<typeof createOperator>, subject: string, nats: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ed25519-nkey' })).toString('base64url')
  const claims = { jti: randomBytes(16).toString('hex').toUpperCase(), iat: Math.floor(Date.now() / 1000), iss: signer.getPublicKey(), sub: subject, name: subject.slice(0, 8), nats: { ...nats, version: 2 } }
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const signature = Buffer.from(signer.sign(Buffer.from(`${header}.${body}`))).toString('base64url')
  return `${header}.${body}.${signature}`
}

describe('.creds file (operator mode)', () => {
  const operator = createOperator()
  const account = createAccount()
  const user = createUser()
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 }
  const operatorJwt = natsJwt(operator, operator.getPublicKey(), { type: 'operator' })
  const accountJwt = natsJwt(operator, account.getPublicKey(), { type: 'account', limits: unlimited })
  const userJwt = natsJwt(account, user.getPublicKey(), { type: 'user', pub: {}, sub: {}, subs: -1, data: -1, payload: -1 })
  const credsFile = file(
    'user.creds',
    `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${new TextDecoder().decode(user.getSeed())}\n------END USER NKEY SEED------\n`,
  )
  let nats: NatsServer
  beforeAll(async () => {
    nats = await startNatsServer({ config: `operator: ${operatorJwt}\nresolver: MEMORY\nresolver_preload: {\n  ${account.getPublicKey()}: ${accountJwt}\n}\n` })
  })
  afterAll(() => nats?.stop())

  it('connects with the creds file and is refused without it', async () => {
    await using node = await startTestServer({ natsUrl: nats.url, config: { nats: { credsFile } } })
    const ready = await eventually(async () => {
      const res = await fetch(`${node.url}/healthz/ready`)
      return res.status === 200 ? ((await res.json()) as { server?: string }) : undefined
    })
    expect(ready.server).toBe(nats.url)
    await expect(createNatsBus({ servers: nats.url, retryForever: false, connectTimeoutMs: 2000 })).rejects.toThrow(/Authorization Violation/i)
  })

  it('names the setting of a missing or malformed creds file', () => {
    expect(() => readNatsCredentials({ credsFile: join(dir, 'absent.creds') })).toThrow(`IM_NATS_CREDS_FILE (nats.credsFile): ${join(dir, 'absent.creds')} does not exist`)
    expect(() => readNatsCredentials({ credsFile: file('bad.creds', 'nothing') })).toThrow(/IM_NATS_CREDS_FILE \(nats.credsFile\): .* is not a NATS .creds file/)
  })
})
