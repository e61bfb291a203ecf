/**
 * Per-connection and per-node limits, each refused with a precise error while the process and
 * the other connections carry on.
 */
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { connect as tcpConnect } from 'node:net'
import { buildClient, connectClient, Inbox, withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

describe('invocation limits', () => {
  it('refuses invocations over the rate with the reason, and serves the connection again later', async () => {
    await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { maxInvocationsPerSecond: 5, invocationBurst: 5 } } })
    await using client = await connectClient(server.hubUrl('/hubs/echo'))
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => client.invoke('echo', i)))
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[]
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(5)
    expect(new Set(refused.map((r) => (r.reason as Error).message))).toEqual(
      new Set(["An unexpected error occurred invoking 'echo' on the server. HubException: Too many invocations: at most 5 per second (bursts of 5)."]),
    )
    await new Promise((resolve) => setTimeout(resolve, 250))
    await expect(client.invoke('echo', 'again')).resolves.toBe('again')
    expect(server.metrics.get('invocations_rate_limited')).toBe(5)
  })

  it('refuses invocations beyond the queue behind the running one', async () => {
    await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { maxQueuedInvocations: 2 } } })
    await using client = await connectClient(server.hubUrl('/hubs/echo'))
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => client.invoke('sleep', 100)))
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected'])
    expect(((results[3] as PromiseRejectedResult).reason as Error).message).toBe(
      "An unexpected error occurred invoking 'sleep' on the server. HubException: Too many invocations are waiting: at most 2 may queue behind the one running.",
    )
  })
})

describe('parallel invocations per connection', () => {
  it('runs as many at once as configured; with no queue, one more is refused', async () => {
    for (const parallel of [1, 2]) {
      await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { maxParallelInvocationsPerClient: parallel, maxQueuedInvocations: 0 } } })
      await using client = await connectClient(server.hubUrl('/hubs/echo'))
      const results = await Promise.allSettled(Array.from({ length: 3 }, () => client.invoke('sleep', 200)))
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(parallel)
      expect(((results[2] as PromiseRejectedResult).reason as Error).message).toBe(
        `An unexpected error occurred invoking 'sleep' on the server. HubException: Too many invocations are waiting: at most 0 may queue behind the ${parallel === 1 ? 'one' : parallel} running.`,
      )
    }
  })
})

describe('connection limits', () => {
  it('refuses a user past the per-user limit with 429 until one of their connections closes', async () => {
    await using server = await startTestServer({ hubs: [DefaultHub], config: { jwt: { secret: TEST_JWT_SECRET }, hubs: { maxConnectionsPerUser: 2 } } })
    const token = await tokenFor('tabby')
    const first = await connectClient(server.hubUrl(), { accessToken: token })
    await using second = await connectClient(server.hubUrl(), { accessToken: token })
    await expect(buildClient(server.hubUrl(), { accessToken: token }).start()).rejects.toThrow(
      "Failed to complete negotiation with the server: Error: This user already has 2 connections on this server.: Status code '429'",
    )
    const negotiate = await fetch(`${server.hubUrl()}/negotiate?negotiateVersion=1`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } })
    expect([negotiate.status, await negotiate.text()]).toEqual([429, 'This user already has 2 connections on this server.'])
    // Another user is not affected.
    await using other = await connectClient(server.hubUrl(), { accessToken: await tokenFor('someone-else') })
    await first.stop()
    await using third = await connectClient(server.hubUrl(), { accessToken: token })
    expect(third.connectionId).toBeTruthy()
  })

  it('refuses an address past the per-address limit, on negotiate and on a direct WebSocket', async () => {
    await using server = await startTestServer({ hubs: [DefaultHub], config: { hubs: { maxConnectionsPerAddress: 2 } } })
    await using a = await connectClient(server.hubUrl())
    await using b = await connectClient(server.hubUrl())
    await expect(buildClient(server.hubUrl()).start()).rejects.toThrow("This address already has 2 connections on this server.: Status code '429'")
    await expect(buildClient(server.hubUrl(), { skipNegotiation: true }).start()).rejects.toThrow()
    expect(a.connectionId).not.toBe(b.connectionId)
  })
})

describe('flooding', () => {
  it('closes a connection that keeps invoking over its rate, without reconnect, and spares the others', async () => {
    await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { maxInvocationsPerSecond: 20, invocationBurst: 20 } } })
    await using bystander = await connectClient(server.hubUrl('/hubs/echo'))
    const flooder = await connectClient(server.hubUrl('/hubs/echo'))
    const closed = new Promise<Error | undefined>((resolve) => flooder.onclose(resolve))
    let stop = false
    void (async () => {
      // Well over 20 per second, for longer than the 2 s the server tolerates.
      while (!stop) {
        await Promise.allSettled(Array.from({ length: 20 }, () => flooder.send('echo', 1)))
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    })()
    const error = await closed
    stop = true
    expect(error?.message).toBe(
      'Server returned an error on close: Connection closed with an error. HubException: The client kept invoking faster than 20 per second for 2 s.',
    )
    expect(server.metrics.get('connections_closed_flooding')).toBe(1)
    await expect(bystander.invoke('echo', 'fine')).resolves.toBe('fine')
  }, 20_000)
})

describe('groups per connection', () => {
  it('takes its limit from the configuration', async () => {
    await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { maxGroupsPerConnection: 3 } } })
    await using client = await connectClient(server.hubUrl('/hubs/echo'))
    for (let i = 0; i < 3; i++) await client.invoke('join', `g${i}`)
    await expect(client.invoke('join', 'g3')).rejects.toThrow(`connection ${client.connectionId} is already in 3 groups; not added to "g3"`)
  })

  it('refuses a join past the limit with the reason', async () => {
    await using server = await startTestServer({ hubs: [EchoHub], config: { hubs: { invocationBurst: 1000 } } })
    await using client = await connectClient(server.hubUrl('/hubs/echo'))
    for (let i = 0; i < 128; i++) await client.invoke('join', `g${i}`)
    await expect(client.invoke('join', 'one-too-many')).rejects.toThrow(
      `An unexpected error occurred invoking 'join' on the server. HubException: connection ${client.connectionId} is already in 128 groups; not added to "one-too-many"`,
    )
  })
})

describe('payloads from services', () => {
  it('drops one over the configured size, counts it, and delivers the next', async () => {
    await using server = await startTestServer({ config: { hubs: { maxServicePayloadSize: 2048 } } })
    await using client = await connectClient(server.hubUrl())
    const inbox = new Inbox(client, 'note')
    const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value))
    await server.bus.publish('im.default.send', encode({ method: 'note', args: ['x'.repeat(4096)] }))
    await server.bus.publish('im.default.send', encode({ method: 'note', args: ['small'] }))
    expect(await inbox.next()).toEqual(['small'])
    expect(inbox.received).toHaveLength(1)
    expect(server.metrics.get('bus_payloads_dropped')).toBe(1)
  })
})

describe('slow requests', () => {
  it('answers 408 and closes a negotiate whose headers never end', async () => {
    await using server = await startTestServer({ config: { hubs: { requestTimeoutMs: 300 } } })
    const socket = tcpConnect(server.port, '127.0.0.1')
    let answer = ''
    socket.on('data', (chunk) => (answer += chunk.toString()))
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    // A slow-loris client: a request line and one header, then nothing.
    socket.write('POST /signalr-hubs/default/negotiate?negotiateVersion=1 HTTP/1.1\r\nHost: x\r\n')
    await withTimeout(closed, 5000, 'the node to close the slow request')
    expect(answer).toMatch(/^HTTP\/1\.1 408 /)
  })
})
