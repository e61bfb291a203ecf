import { describe, expect, it, vi } from 'vitest'
import { FlushBatcher } from '../../../src/bus/flush-batcher.js'
import { ImErrorCode } from '../../../src/errors.js'

describe('FlushBatcher', () => {
  it('shares one flush between all waits of one event-loop turn', async () => {
    const batcher = new FlushBatcher({ timeoutMs: 1000 })
    const flush = vi.fn(() => Promise.resolve())
    const first = Array.from({ length: 1000 }, () => batcher.wait(flush))
    expect(flush).not.toHaveBeenCalled()
    await Promise.all(first)
    expect(flush).toHaveBeenCalledTimes(1)
    await batcher.wait(flush)
    expect(flush).toHaveBeenCalledTimes(2)
  })

  it('rejects with IM_BUS_UNAVAILABLE when the flush fails', async () => {
    const batcher = new FlushBatcher({ timeoutMs: 1000 })
    await expect(batcher.wait(() => Promise.reject(new Error('connection disconnected')))).rejects.toMatchObject({
      code: ImErrorCode.BusUnavailable,
      message: expect.stringContaining('connection disconnected'),
    })
  })

  it('rejects with IM_BUS_UNAVAILABLE when the flush is not confirmed in time', async () => {
    const batcher = new FlushBatcher({ timeoutMs: 20 })
    await expect(batcher.wait(() => new Promise<void>(() => {}))).rejects.toMatchObject({
      code: ImErrorCode.BusUnavailable,
      message: 'NATS did not confirm the publish within 20 ms',
    })
  })

  it('fails every waiting publish at once on failAll', async () => {
    const batcher = new FlushBatcher({ timeoutMs: 10_000 })
    const waiting = batcher.wait(() => new Promise<void>(() => {}))
    await new Promise((resolve) => setImmediate(resolve))
    batcher.failAll('NATS connection lost')
    await expect(waiting).rejects.toMatchObject({ code: ImErrorCode.BusUnavailable, message: 'NATS connection lost' })
  })
})
