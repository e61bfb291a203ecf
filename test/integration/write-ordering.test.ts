/**
 * What one connection is sent reaches its client in the order it was sent, whichever path each
 * message took to the socket: service broadcasts, service messages by connection and by user,
 * what a hub method sends to everyone (through NATS and back) and to its caller (on this node),
 * and invocation completions. Over every transport, with JSON and (where the transport carries
 * binary) MessagePack, with the official client.
 */
import * as signalR from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { connectClient } from '../support/clients.js'
import { natsFixture } from '../support/nats-fixture.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

const fixture = natsFixture({
  nodes: [{ hubs: [DefaultHub, EchoHub], config: { jwt: { secret: TEST_JWT_SECRET }, hubs: { longPollTimeoutMs: 400, longPollIdleTimeoutMs: 600 } } }],
})

const { WebSockets, ServerSentEvents, LongPolling } = signalR.HttpTransportType
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i)

describe.each([
  ['WebSockets', WebSockets, 'json'],
  ['ServerSentEvents', ServerSentEvents, 'json'],
  ['LongPolling', LongPolling, 'json'],
  ['WebSockets', WebSockets, 'messagepack'],
  ['LongPolling', LongPolling, 'messagepack'],
] as const)('over %s with %s', (name, transport, protocolName) => {
  const options = async (user: string) => ({
    transport,
    accessToken: await tokenFor(user),
    ...(protocolName === 'messagepack' ? { protocol: new MessagePackHubProtocol() } : {}),
  })

  it('gets interleaved service broadcasts, connection messages and user messages in the order they were published', async () => {
    const user = `order-service-${name}-${protocolName}`
    await using client = await connectClient(fixture.server.hubUrl(), await options(user))
    const got: number[] = []
    client.on('seq', (n: number) => got.push(n))
    const count = 60
    // One publisher, no waiting in between: NATS keeps their order, and so must everything after it.
    for (const i of range(count)) {
      const [subject, to] = [
        ['im.default.send', {}],
        ['im.default.send.client', { connectionId: client.connectionId }],
        ['im.default.send.user', { userId: user }],
      ][i % 3] as [string, object]
      fixture.service.nc.publish(subject, JSON.stringify({ ...to, method: 'seq', args: [i] }))
    }
    await fixture.service.nc.flush()
    await vi.waitFor(() => expect(got).toHaveLength(count), { timeout: 10_000, interval: 20 })
    expect(got).toEqual(range(count))
  })

  it("gets a hub method's messages to everyone, to its connection and to its user before its completion, and completions in call order", async () => {
    await using client = await connectClient(fixture.server.hubUrl('/hubs/echo'), await options(`order-hub-${name}-${protocolName}`))
    const seen: string[] = []
    client.on('step', (i: number) => seen.push(`step ${i}`))
    const count = 30
    const steps = client.invoke('steps', count).then((n: number) => seen.push(`steps done ${n}`))
    // Invoked at once, behind `steps`: they run in turn, and complete in the order they were made.
    const echoes = range(10).map((i) => client.invoke('echo', i).then((value: number) => seen.push(`echo ${value}`)))
    await Promise.all([steps, ...echoes])
    expect(seen).toEqual([...range(count).map((i) => `step ${i}`), `steps done ${count}`, ...range(10).map((i) => `echo ${i}`)])
  })
})
