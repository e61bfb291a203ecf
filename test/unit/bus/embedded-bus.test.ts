import { afterEach, describe, expect, it, vi } from 'vitest'
import { EmbeddedBus, createEmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { ImErrorCode } from '../../../src/errors.js'
import { bytes, collector, runBusContract } from '../../support/bus-contract.js'

runBusContract('EmbeddedBus', async () => {
  const bus = await createEmbeddedBus()
  return { bus, dispose: () => bus.close() }
})

describe('EmbeddedBus', () => {
  const buses: EmbeddedBus[] = []
  const start = (): EmbeddedBus => {
    const bus = new EmbeddedBus()
    buses.push(bus)
    return bus
  }
  afterEach(async () => {
    await Promise.allSettled(buses.splice(0).map((bus) => bus.close()))
  })

  it('reports kind embedded and no server', () => {
    expect(start().status()).toEqual({ kind: 'embedded', state: 'connected' })
  })

  it('delivers outside the publishing call stack', async () => {
    const bus = start()
    const got = collector()
    bus.subscribe('a.b', got.handler)
    const published = bus.publish('a.b', bytes('x'))
    expect(got.messages).toHaveLength(0)
    await published
    await vi.waitFor(() => expect(got.texts()).toEqual(['x']), { timeout: 1000, interval: 1 })
  })

  it('takes a copy of the data, so the publisher may reuse its buffer', async () => {
    const bus = start()
    const got = collector()
    bus.subscribe('a.b', got.handler)
    const buffer = bytes('abc')
    await bus.publish('a.b', buffer)
    buffer.fill(0)
    await vi.waitFor(() => expect(got.texts()).toEqual(['abc']), { timeout: 1000, interval: 1 })
  })

  it('shares queue-group messages round robin between members', async () => {
    const bus = start()
    const a = collector()
    const b = collector()
    bus.subscribe('jobs', a.handler, { queue: 'q' })
    bus.subscribe('jobs', b.handler, { queue: 'q' })
    for (let i = 0; i < 6; i++) await bus.publish('jobs', bytes(String(i)))
    await vi.waitFor(() => expect(a.messages.length + b.messages.length).toBe(6), { timeout: 1000, interval: 1 })
    expect(a.texts()).toEqual(['0', '2', '4'])
    expect(b.texts()).toEqual(['1', '3', '5'])
  })

  it('delivers messages already published when closed', async () => {
    const bus = start()
    const got = collector()
    bus.subscribe('a', got.handler)
    void bus.publish('a', bytes('in flight'))
    await bus.close()
    expect(got.texts()).toEqual(['in flight'])
  })

  it('refuses a header that would break a protocol line', async () => {
    const bus = start()
    await expect(bus.publish('a', bytes('x'), { headers: { 'X-Bad': 'a\r\nPUB b 1' } })).rejects.toMatchObject({
      code: ImErrorCode.BusPublishFailed,
    })
    await expect(bus.publish('a', bytes('x'), { headers: { 'Bad:Name': 'v' } })).rejects.toMatchObject({
      code: ImErrorCode.BusPublishFailed,
    })
  })

  it('refuses to subscribe to a malformed subject', () => {
    const bus = start()
    for (const subject of ['', 'a..b', 'a.>.b', 'a b', 'a*']) {
      expect(() => bus.subscribe(subject, () => {})).toThrow(expect.objectContaining({ code: ImErrorCode.InvalidTopic }))
    }
  })
})
