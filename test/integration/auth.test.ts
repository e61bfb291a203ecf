/**
 * JWT authentication as a frontend meets it: tokens from accessTokenFactory (header on
 * negotiate, header or query on the WebSocket), refusals as 401 before any connection exists, the
 * connection token bound to its user, and @Authorize on hubs and methods.
 */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { createConsoleLogger } from '../../src/logger.js'
import { DefaultHub } from '../../hubs/default-hub.js'
import { AcmeHub, AdminsHub, EchoHub, PickyHub, SecureHub } from '../fixtures/hubs/test-hubs.js'
import { buildClient, closed, connectClient, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const UNAUTHORIZED = "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'"
const logLines: string[] = []
let server: TestServer

beforeAll(async () => {
  server = await startTestServer({
    hubs: [DefaultHub, EchoHub, SecureHub, PickyHub, AdminsHub, AcmeHub],
    config: { jwt: { secret: TEST_JWT_SECRET } },
    logger: createConsoleLogger({ level: 'debug', write: (line) => logLines.push(line) }),
  })
})

afterAll(async () => {
  await server?.close()
})

async function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return withTimeout(
    new Promise<number>((resolve) => {
      const ws = new WebSocket(url.replace('http', 'ws'), { headers })
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      ws.on('open', () => {
        resolve(101)
        ws.close()
      })
      ws.on('error', () => {})
    }),
    5000,
    'the upgrade answer',
  )
}

describe('valid tokens', () => {
  it('gives the connection the user id of the token (accessTokenFactory)', async () => {
    const c = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('alice') })
    expect(await c.invoke('whoAmI')).toEqual({ connectionId: c.connectionId, userId: 'alice', transport: 'WebSockets' })
    await c.stop()
  })

  it('takes the token from the access_token query, as browsers send it on WebSockets', async () => {
    const token = await tokenFor('bob')
    const c = await connectClient(`${server.hubUrl('/hubs/echo')}?access_token=${token}`, { skipNegotiation: true })
    expect(await c.invoke('whoAmI')).toMatchObject({ userId: 'bob' })
    await c.stop()
  })

  it('falls back to the .NET name-identifier claim when sub is absent', async () => {
    const { SignJWT } = await import('jose')
    const token = await new SignJWT({ 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier': 'dotnet-user' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(TEST_JWT_SECRET))
    const c = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: token })
    expect(await c.invoke('whoAmI')).toMatchObject({ userId: 'dotnet-user' })
    await c.stop()
  })
})

describe('bad tokens are refused with 401 before a connection exists', () => {
  it.each([
    ['signed with another secret', () => tokenFor('mallory', { secret: 'another-secret-that-is-long-enough!!' })],
    ['expired', () => tokenFor('mallory', { expiresIn: Math.floor(Date.now() / 1000) - 3600 })],
    ['not a JWT', async () => 'not-a-token'],
    ['unsigned (alg none)', async () => `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'x', exp: 9999999999 })).toString('base64url')}.`],
  ])('%s', async (_name, makeToken) => {
    const token = await makeToken()
    const c = buildClient(server.hubUrl(), { accessToken: token })
    await expect(c.start()).rejects.toThrow(UNAUTHORIZED)
    const negotiate = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    expect(negotiate.status).toBe(401)
    expect(negotiate.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description=".+"$/)
    expect(await upgradeStatus(`${server.hubUrl()}?access_token=${encodeURIComponent(token)}`)).toBe(401)
    expect(server.hubs.length).toBeGreaterThan(0)
  })

  it('never writes a token into the log', async () => {
    const token = await tokenFor('leaky', { secret: 'wrong-secret-but-long-enough-for-hs256' })
    await expect(buildClient(server.hubUrl(), { accessToken: token }).start()).rejects.toThrow(UNAUTHORIZED)
    await upgradeStatus(`${server.hubUrl()}?access_token=${token}`)
    expect(logLines.some((line) => line.includes('refused a request'))).toBe(true)
    const signature = token.split('.')[2]!
    expect(logLines.filter((line) => line.includes(signature))).toEqual([])
  })
})

describe('connection tokens', () => {
  it("are bound to the user who negotiated: another user's token opens nothing (403)", async () => {
    const aliceToken = await tokenFor('alice')
    const negotiated = await (
      await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${aliceToken}` } })
    ).json() as { connectionToken: string }
    const url = `${server.hubUrl()}?id=${negotiated.connectionToken}`
    expect(await upgradeStatus(url, { Authorization: `Bearer ${await tokenFor('eve')}` })).toBe(403)
    expect(await upgradeStatus(url)).toBe(403)
    // The refusals did not use the token up: alice can still open her connection.
    expect(await upgradeStatus(url, { Authorization: `Bearer ${aliceToken}` })).toBe(101)
  })
})

describe('@Authorize', () => {
  it('on a hub: anonymous negotiate gets 401; a user connects', async () => {
    await expect(buildClient(server.hubUrl('/signalr-hubs/secure')).start()).rejects.toThrow(UNAUTHORIZED)
    expect(await upgradeStatus(server.hubUrl('/signalr-hubs/secure'))).toBe(401)
    const c = await connectClient(server.hubUrl('/signalr-hubs/secure'), { accessToken: await tokenFor('carol') })
    await expect(c.invoke('me')).resolves.toBe('carol')
    await c.stop()
  })

  it('on a method: refuses anonymous users and users without the role', async () => {
    const anonymous = await connectClient(server.hubUrl('/hubs/echo'))
    await expect(anonymous.invoke('adminOnly')).rejects.toThrow("Failed to invoke 'adminOnly' because user is unauthorized")
    const user = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('dan', { claims: { role: 'user' } }) })
    await expect(user.invoke('adminOnly')).rejects.toThrow("Failed to invoke 'adminOnly' because user is unauthorized")
    const admin = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('ann', { claims: { roles: ['admin'] } }) })
    await expect(admin.invoke('adminOnly')).resolves.toBe('secret')
    await Promise.all([anonymous.stop(), user.stop(), admin.stop()])
  })

  it("on a hub with roles: a user without one may not connect (403), and the class's rule joins each method's", async () => {
    const url = server.hubUrl('/signalr-hubs/admins')
    await expect(buildClient(url, { accessToken: await tokenFor('dan', { claims: { role: 'user' } }) }).start()).rejects.toThrow(
      "Failed to complete negotiation with the server: Error: This hub requires one of the roles admin.: Status code '403'",
    )
    expect(await upgradeStatus(url, { Authorization: `Bearer ${await tokenFor('dan', { claims: { role: 'user' } })}` })).toBe(403)
    await using admin = await connectClient(url, { accessToken: await tokenFor('ann', { claims: { roles: ['admin'] } }) })
    await expect(admin.invoke('me')).resolves.toBe('ann')
    // The method's own rule is added to the hub's, not put in its place.
    await expect(admin.invoke('audit')).rejects.toThrow("Failed to invoke 'audit' because user is unauthorized")
    await using both = await connectClient(url, { accessToken: await tokenFor('aud', { claims: { roles: ['admin', 'auditor'] } }) })
    await expect(both.invoke('audit')).resolves.toBe('audit log')
  })

  it("on a hub with a policy: every method runs it", async () => {
    await using acme = await connectClient(server.hubUrl('/signalr-hubs/acme'), { accessToken: await tokenFor('amy', { claims: { tenant: 'acme' } }) })
    await using other = await connectClient(server.hubUrl('/signalr-hubs/acme'), { accessToken: await tokenFor('oli', { claims: { tenant: 'globex' } }) })
    await expect(acme.invoke('data')).resolves.toBe('acme data')
    await expect(other.invoke('data')).rejects.toThrow("Failed to invoke 'data' because user is unauthorized")
  })

  it('onConnected throwing refuses the connection with its message, without reconnect', async () => {
    const c = buildClient(server.hubUrl('/signalr-hubs/picky'))
    const closing = closed(c)
    // The Close can arrive before start() settles (start rejects) or just after (onclose fires).
    const error = (await c.start().then(() => undefined, (e: Error) => e)) ?? (await closing)
    expect(error?.message).toBe('Server returned an error on close: Connection closed with an error. HubException: sign in first')
    expect(c.state).toBe(signalR.HubConnectionState.Disconnected)
    const ok = await connectClient(server.hubUrl('/signalr-hubs/picky'), { accessToken: await tokenFor('fay') })
    await expect(ok.invoke('ping')).resolves.toBe('pong')
    await ok.stop()
  })
})

describe('policies and token expiry', () => {
  it('runs a method policy with the caller context', async () => {
    await using acme = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('amy', { claims: { tenant: 'acme' } }) })
    await using other = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('oli', { claims: { tenant: 'globex' } }) })
    await expect(acme.invoke('acmeOnly')).resolves.toBe('acme data')
    await expect(other.invoke('acmeOnly')).rejects.toThrow("Failed to invoke 'acmeOnly' because user is unauthorized")
  })

  it('gives a policy the call: method name and arguments, so it can decide by argument', async () => {
    await using amy = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('amy') })
    await expect(amy.invoke('inboxOf', 'amy')).resolves.toBe('inbox of amy')
    await expect(amy.invoke('inboxOf', 'bob')).rejects.toThrow("Failed to invoke 'inboxOf' because user is unauthorized")
    const stream = (userId: string) =>
      new Promise<string>((resolve) => {
        amy.stream('feedOf', userId).subscribe({ next: (item) => resolve(String(item)), complete: () => {}, error: (error) => resolve(error.message) })
      })
    await expect(stream('amy')).resolves.toBe('feed of amy')
    await expect(stream('bob')).resolves.toBe("Failed to invoke 'feedOf' because user is unauthorized")
  })

  it("lets a hub of one's own apply the topic rules to a topic it is given", async () => {
    await using amy = await connectClient(server.hubUrl('/hubs/echo'), { accessToken: await tokenFor('amy') })
    await expect(amy.invoke('peek', 'user.amy.inbox')).resolves.toBe('may watch user.amy.inbox')
    await expect(amy.invoke('peek', 'user.bob.inbox')).rejects.toThrow(
      "An unexpected error occurred invoking 'peek' on the server. HubException: Not allowed to watch 'user.bob.inbox': only user bob may watch it.",
    )
    // A wildcard must not slip through a rule: `user.amy.>` is no topic.
    await expect(amy.invoke('peek', 'user.amy.>')).rejects.toThrow("HubException: Invalid topic 'user.amy.>'")
  })

  it('closes a connection when its token expires, letting the client reconnect with a fresh one', async () => {
    const expiring = await startTestServer({ hubs: [EchoHub], config: { jwt: { secret: TEST_JWT_SECRET, clockToleranceSeconds: 0 }, hubs: { keepAliveIntervalMs: 100, clientTimeoutMs: 5000 } } })
    try {
      let tokens = 0
      const c = new signalR.HubConnectionBuilder()
        .withUrl(expiring.hubUrl('/hubs/echo'), {
          transport: signalR.HttpTransportType.WebSockets,
          // The first token lives two seconds; the next ones an hour.
          accessTokenFactory: async () => (tokens++ === 0 ? tokenFor('exp-user', { expiresIn: Math.floor(Date.now() / 1000) + 2 }) : tokenFor('exp-user')),
        })
        .withAutomaticReconnect([0, 100, 200])
        .configureLogging(signalR.LogLevel.None)
        .build()
      const reconnected = new Promise<string | undefined>((resolve) => c.onreconnected(resolve))
      await c.start()
      const first = c.connectionId
      const id = await withTimeout(reconnected, 8000, 'the reconnect after expiry')
      expect(id).not.toBe(first)
      expect(tokens).toBeGreaterThanOrEqual(2)
      await expect(c.invoke('whoAmI')).resolves.toMatchObject({ userId: 'exp-user' })
      await c.stop()
    } finally {
      await expiring.close()
    }
  })
})

describe('cross-site WebSocket hijacking', () => {
  it('refuses an upgrade from an origin outside the allow-list, before any connection exists', async () => {
    const guarded = await startTestServer({ hubs: [DefaultHub], config: { corsOrigins: ['https://app.example.com'] } })
    try {
      expect(await upgradeStatus(guarded.hubUrl(), { Origin: 'https://evil.example.net' })).toBe(403)
      expect(await upgradeStatus(guarded.hubUrl(), { Origin: 'https://app.example.com' })).toBe(101)
      // Non-browser clients send no Origin and are not affected.
      expect(await upgradeStatus(guarded.hubUrl())).toBe(101)
      const preflight = await fetch(`${guarded.hubUrl()}/negotiate`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example.net' } })
      expect(preflight.status).toBe(403)
    } finally {
      await guarded.close()
    }
  })
})
