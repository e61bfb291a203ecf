/**
 * NATS going away must not take clients with it: connections stay open, what needs NATS fails
 * with a clear error, /healthz says so, and delivery resumes by itself when NATS is back.
 */
import * as signalR from '@microsoft/signalr'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { connectClient, Inbox } from '../support/clients.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => {})
})

async function busState(url: string): Promise<string> {
  const health = (await (await fetch(`${url}/healthz`)).json()) as { bus: { state: string } }
  return health.bus.state
}

describe('NATS outage', () => {
  it('keeps connections open, fails publish clearly, and resumes delivery after NATS returns', async () => {
    const nats = await startNatsServer()
    cleanup.push(() => nats.stop())
    const server = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub, EchoHub] })
    cleanup.push(() => server.close())
    const client = await connectClient(server.hubUrl())
    const echo = await connectClient(server.hubUrl('/hubs/echo'))
    cleanup.push(() => client.stop(), () => echo.stop())
    const inbox = new Inbox(client, 'news')

    await nats.kill('SIGKILL')
    await vi.waitFor(async () => expect(await busState(server.url)).toBe('reconnecting'), { timeout: 10_000, interval: 50 })

    expect(client.state).toBe(signalR.HubConnectionState.Connected)
    await expect(echo.invoke('echo', 'no NATS needed')).resolves.toBe('no NATS needed')
    await expect(client.invoke('publish', 'orders', 1)).rejects.toThrow(
      "An unexpected error occurred invoking 'publish' on the server. HubException: NATS is not connected",
    )

    await nats.restart()
    await vi.waitFor(async () => expect(await busState(server.url)).toBe('connected'), { timeout: 15_000, interval: 50 })
    const service = await TestService.connect(nats.url)
    cleanup.push(() => service[Symbol.asyncDispose]())
    const listener = await service.listen('im.default.receive.>')
    await service.publish('im.default.send', { method: 'news', args: ['after the outage'] })
    expect(await inbox.next()).toEqual(['after the outage'])
    await client.invoke('publish', 'orders', 2)
    expect((await listener.next()).json).toMatchObject({ topic: 'orders', args: [2] })
    expect(client.state).toBe(signalR.HubConnectionState.Connected)
  }, 40_000)

  it('starts without a reachable configured NATS, serves clients, and connects once NATS is up', async () => {
    const port = await freePort()
    const server = await startTestServer({ natsUrl: `nats://127.0.0.1:${port}` })
    cleanup.push(() => server.close())
    expect(await busState(server.url)).toBe('connecting')
    expect(server.bus.status().kind).toBe('nats')
    const client = await connectClient(server.hubUrl())
    cleanup.push(() => client.stop())
    await expect(client.invoke('publish', 'early', 1)).rejects.toThrow('HubException: NATS is not connected')

    const nats = await startNatsServer({ port })
    cleanup.push(() => nats.stop())
    await vi.waitFor(async () => expect(await busState(server.url)).toBe('connected'), { timeout: 15_000, interval: 50 })
    const service = await TestService.connect(nats.url)
    cleanup.push(() => service[Symbol.asyncDispose]())
    const inbox = new Inbox(client, 'hello')
    await server.bus.ready()
    await service.publish('im.default.send', { method: 'hello', args: ['late'] })
    expect(await inbox.next()).toEqual(['late'])
    await expect(client.invoke('publish', 'late', 1)).resolves.toBeNull()
  }, 40_000)
})
