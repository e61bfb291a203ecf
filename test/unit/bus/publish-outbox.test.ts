import { describe, expect, it, vi } from 'vitest'
import { PublishOutbox } from '../../../src/bus/publish-outbox.js'
import { ImError, ImErrorCode } from '../../../src/errors.js'

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('PublishOutbox', () => {
  it('hands over the publishes of a turn together, in order, and confirms them with one flush', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 1000 })
    const handed: number[] = []
    const flush = vi.fn(() => Promise.resolve())
    const confirmed = Array.from({ length: 1000 }, (_, i) => outbox.push(() => handed.push(i), true, flush))
    expect(handed).toEqual([])
    expect(flush).not.toHaveBeenCalled()
    await Promise.all(confirmed)
    expect(handed).toEqual(Array.from({ length: 1000 }, (_, i) => i))
    expect(flush).toHaveBeenCalledTimes(1)
    await outbox.push(() => handed.push(1000), true, flush)
    expect(flush).toHaveBeenCalledTimes(2)
  })

  it('hands over at once when flushed (before a drain), and not twice', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 1000 })
    const handed: string[] = []
    const done = outbox.push(() => handed.push('a'), true, () => Promise.resolve())
    outbox.flush()
    expect(handed).toEqual(['a'])
    await done
    await turn()
    expect(handed).toEqual(['a'])
  })

  it('lets an unconfirmed publish wait up to its window, unless a confirmed one takes it along in order', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 1000, relaxedMs: 30 })
    const handed: string[] = []
    const flush = vi.fn(() => Promise.resolve())
    const event = outbox.push(() => handed.push('event'), false)
    await turn()
    expect(handed).toEqual([])
    await event
    expect(handed).toEqual(['event'])
    expect(flush).not.toHaveBeenCalled()
    void outbox.push(() => handed.push('event 2'), false)
    await outbox.push(() => handed.push('confirmed'), true, flush)
    expect(handed).toEqual(['event', 'event 2', 'confirmed'])
    expect(flush).toHaveBeenCalledTimes(1)
  })

  it('rejects a publish refused at hand-over with its own error, and goes on with the next', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 1000 })
    const handed: string[] = []
    const refusal = new ImError(ImErrorCode.BusPublishFailed, 'too large')
    const refused = outbox.push(
      () => {
        throw refusal
      },
      true,
      () => Promise.resolve(),
    )
    const next = outbox.push(() => handed.push('next'), true, () => Promise.resolve())
    await expect(refused).rejects.toBe(refusal)
    await next
    expect(handed).toEqual(['next'])
  })

  it('rejects with IM_BUS_UNAVAILABLE when the flush fails', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 1000 })
    await expect(outbox.push(() => {}, true, () => Promise.reject(new Error('connection disconnected')))).rejects.toMatchObject({
      code: ImErrorCode.BusUnavailable,
      message: expect.stringContaining('connection disconnected'),
    })
  })

  it('rejects with IM_BUS_UNAVAILABLE when the flush is not confirmed in time', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 20 })
    await expect(outbox.push(() => {}, true, () => new Promise<void>(() => {}))).rejects.toMatchObject({
      code: ImErrorCode.BusUnavailable,
      message: 'NATS did not confirm the publish within 20 ms',
    })
  })

  it('fails every publish not yet confirmed on failAll, and hands over none still queued', async () => {
    const outbox = new PublishOutbox({ timeoutMs: 10_000 })
    const handed: string[] = []
    const inFlight = outbox.push(() => handed.push('in flight'), true, () => new Promise<void>(() => {}))
    await turn()
    const queued = outbox.push(() => handed.push('queued'), false)
    outbox.failAll('NATS connection lost')
    await expect(inFlight).rejects.toMatchObject({ code: ImErrorCode.BusUnavailable, message: 'NATS connection lost' })
    await expect(queued).rejects.toMatchObject({ code: ImErrorCode.BusUnavailable, message: 'NATS connection lost' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(handed).toEqual(['in flight'])
  })
})
