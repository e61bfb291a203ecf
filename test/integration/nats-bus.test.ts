import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import type { BusStatus } from '../../src/bus/bus.js'
import { createNatsBus } from '../../src/bus/nats-bus.js'
import type { NatsBus, NatsBusOptions } from '../../src/bus/nats-bus.js'
import { ImErrorCode, isImError } from '../../src/errors.js'
import { bytes, collector, runBusContract, uniqueSubject } from '../support/bus-contract.js'
import { freePort, startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'

const WAIT = { timeout: 10_000, interval: 10 } as const

// One server for the contract and the steady-state tests; outage tests start their own.
let shared: NatsServer | undefined
beforeAll(async () => {
  shared = await startNatsServer()
})
afterAll(async () => {
  await shared?.stop()
})

const sharedUrl = (): string => {
  if (!shared) throw new Error('nats-server did not start')
  return shared.url
}

runBusContract('NatsBus', async () => {
  const bus = await createNatsBus({ servers: sharedUrl(), retryForever: false })
  return { bus, dispose: () => bus.close() }
})

describe('NatsBus', () => {
  const cleanups: Array<() => Promise<void>> = []
  const open = async (options: Partial<NatsBusOptions> & { servers: string }): Promise<NatsBus> => {
    const bus = await createNatsBus({ retryForever: false, reconnectWaitMs: 100, ...options })
    cleanups.push(() => bus.close())
    return bus
  }
  const ownServer = async (options?: { port?: number }): Promise<NatsServer> => {
    const server = await startNatsServer(options)
    cleanups.push(() => server.stop())
    return server
  }
  afterEach(async () => {
    // Buses first (they were opened after their servers), then servers.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
  })

  it('rejects quickly with IM_BUS_UNAVAILABLE when NATS is not reachable and retryForever is false', async () => {
    const port = await freePort()
    const startedAt = Date.now()
    const error = await createNatsBus({ servers: `nats://127.0.0.1:${port}`, retryForever: false }).catch((e: unknown) => e)
    expect(isImError(error, ImErrorCode.BusUnavailable)).toBe(true)
    expect((error as Error).message).toContain(`NATS not reachable at nats://127.0.0.1:${port}:`)
    expect(Date.now() - startedAt).toBeLessThan(3000)
  })

  it('keeps trying with retryForever and makes earlier subscriptions once NATS appears', async () => {
    const port = await freePort()
    const bus = await open({ servers: `nats://127.0.0.1:${port}`, retryForever: true })
    const statuses: BusStatus[] = []
    bus.onStatusChange((status) => statuses.push(status))
    expect(bus.status().state).toBe('connecting')
    const subject = uniqueSubject('late')
    const got = collector()
    bus.subscribe(subject, got.handler)
    await expect(bus.publish(subject, bytes('too early'))).rejects.toMatchObject({ code: ImErrorCode.BusUnavailable })

    await ownServer({ port })
    await vi.waitFor(() => expect(bus.status().state).toBe('connected'), WAIT)
    expect(statuses.map((s) => s.state)).toEqual(['connected'])
    await bus.publish(subject, bytes('hello'))
    await vi.waitFor(() => expect(got.texts()).toEqual(['hello']), WAIT)
  })

  it.each(['SIGTERM', 'SIGKILL'] as const)('reports an outage (%s), refuses publishes at once, and resumes the same subscription after a restart', async (signal) => {
    const server = await ownServer()
    const bus = await open({ servers: server.url })
    const states: string[] = []
    bus.onStatusChange((status) => states.push(status.state))
    const subject = uniqueSubject('outage')
    const got = collector()
    bus.subscribe(subject, got.handler)
    await bus.publish(subject, bytes('before'))
    await vi.waitFor(() => expect(got.texts()).toEqual(['before']), WAIT)

    await server.kill(signal)
    await vi.waitFor(() => expect(bus.status().state).toBe('reconnecting'), WAIT)
    expect(states).toEqual(['reconnecting'])
    const refusedAt = Date.now()
    await expect(bus.publish(subject, bytes('during'))).rejects.toMatchObject({
      code: ImErrorCode.BusUnavailable,
      message: 'NATS is not connected',
    })
    expect(Date.now() - refusedAt).toBeLessThan(500)

    await server.restart()
    await vi.waitFor(() => expect(bus.status().state).toBe('connected'), WAIT)
    expect(states).toEqual(['reconnecting', 'connected'])
    await bus.publish(subject, bytes('after'))
    // 'during' was refused, not buffered: it must never show up after the reconnect.
    await vi.waitFor(() => expect(got.texts()).toEqual(['before', 'after']), WAIT)
  })

  it('names the server it is connected to, without credentials', async () => {
    const bus = await open({ servers: sharedUrl().replace('nats://', 'nats://someone:s3cret@') })
    expect(bus.status()).toEqual({ kind: 'nats', state: 'connected', server: sharedUrl() })
    expect(JSON.stringify(bus.status())).not.toContain('s3cret')
  })

  it('refuses a payload above max_payload with IM_BUS_PUBLISH_FAILED and keeps working', async () => {
    const bus = await open({ servers: sharedUrl() })
    const subject = uniqueSubject('big')
    const got = collector()
    bus.subscribe(subject, got.handler)
    await expect(bus.publish(subject, new Uint8Array(2 * 1024 * 1024))).rejects.toMatchObject({
      code: ImErrorCode.BusPublishFailed,
      message: expect.stringContaining('max_payload'),
    })
    // Headers count against max_payload too: a payload just under it with a header is over.
    await expect(bus.publish(subject, new Uint8Array(1024 * 1024 - 8), { headers: { 'x-note': 'pushes it over' } })).rejects.toMatchObject({
      code: ImErrorCode.BusPublishFailed,
      message: expect.stringContaining('max_payload'),
    })
    await bus.publish(subject, bytes('small'))
    await vi.waitFor(() => expect(got.texts()).toEqual(['small']), WAIT)
  })

  it('stops delivering once closed while other connections still receive', async () => {
    const closing = await open({ servers: sharedUrl() })
    const other = await open({ servers: sharedUrl() })
    const subject = uniqueSubject('closed')
    const gone = collector()
    const sentinel = collector()
    closing.subscribe(subject, gone.handler)
    other.subscribe(subject, sentinel.handler)
    // A SUB is in place at the server once a later flush of the same connection returns; across
    // two connections nothing orders them, so confirm both before publishing.
    await Promise.all([closing, other].map((bus) => bus.publish(uniqueSubject('sync'), bytes(''))))
    await other.publish(subject, bytes('before'))
    await vi.waitFor(() => expect(gone.texts()).toEqual(['before']), WAIT)
    await closing.close()
    await other.publish(subject, bytes('after'))
    await vi.waitFor(() => expect(sentinel.texts()).toEqual(['before', 'after']), WAIT)
    expect(gone.texts()).toEqual(['before'])
  })

  it('delivers a burst of 500 publishes, all confirmed', async () => {
    const bus = await open({ servers: sharedUrl() })
    const subject = uniqueSubject('burst')
    const got = collector()
    bus.subscribe(subject, got.handler)
    const sent = Array.from({ length: 500 }, (_, i) => String(i))
    await Promise.all(sent.map((m) => bus.publish(subject, bytes(m))))
    await vi.waitFor(() => expect(got.messages).toHaveLength(500), WAIT)
    expect(got.texts()).toEqual(sent)
  })
})
