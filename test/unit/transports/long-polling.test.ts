import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClientWrites } from '../../../src/transports/client-writes.js'
import { LongPollingTransport } from '../../../src/transports/long-polling-transport.js'

const endOfTick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A poll: its request, and the response the transport writes (status and body once ended). */
function poll(): { req: IncomingMessage; res: ServerResponse; answer: { status?: number; body?: string } } {
  const answer: { status?: number; body?: string } = {}
  const res = {
    headersSent: false,
    writeHead(status: number) {
      answer.status = status
      this.headersSent = true
      return this
    },
    end(body?: Buffer) {
      answer.body = body ? body.toString() : ''
    },
  }
  return { req: new EventEmitter() as IncomingMessage, res: res as unknown as ServerResponse, answer }
}

/** Whether `promise` has settled, once the promises already due have run. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false
  void promise.then(() => (settled = true))
  await Promise.resolve()
  await Promise.resolve()
  return settled
}

function openTransport(): LongPollingTransport {
  const transport = new LongPollingTransport({ longPollTimeoutMs: 60_000, longPollIdleTimeoutMs: 60_000 }, new ClientWrites())
  const first = poll()
  transport.poll(first.req, first.res)
  expect(first.answer.status).toBe(200)
  return transport
}

describe('LongPollingTransport', () => {
  it('answers a waiting poll at the flush point with everything sent until then, in order', async () => {
    const transport = openTransport()
    const waiting = poll()
    transport.poll(waiting.req, waiting.res)
    transport.send('a')
    transport.send('b')
    expect(waiting.answer.status).toBeUndefined()
    await endOfTick()
    expect(waiting.answer).toEqual({ status: 200, body: 'ab' })
    transport.close()
  })

  it('still hands what was sent just before a close to the waiting poll', () => {
    const transport = openTransport()
    const waiting = poll()
    transport.poll(waiting.req, waiting.res)
    transport.send('close message')
    transport.close()
    expect(waiting.answer).toEqual({ status: 200, body: 'close message' })
    const after = poll()
    transport.poll(after.req, after.res)
    expect(after.answer.status).toBe(204)
  })

  it('keeps what was sent for the next poll when the waiting one went away before the flush point', async () => {
    const transport = openTransport()
    const waiting = poll()
    transport.poll(waiting.req, waiting.res)
    transport.send('kept')
    waiting.req.emit('close')
    await endOfTick()
    expect(waiting.answer.status).toBeUndefined()
    const next = poll()
    transport.poll(next.req, next.res)
    expect(next.answer).toEqual({ status: 200, body: 'kept' })
    transport.close()
  })

  it('keeps what was sent before a close for the next poll when none was waiting, then answers 204', async () => {
    const transport = openTransport()
    transport.send('close message')
    transport.close()
    expect(await isSettled(transport.closed)).toBe(false)
    const next = poll()
    transport.poll(next.req, next.res)
    expect(next.answer).toEqual({ status: 200, body: 'close message' })
    expect(await isSettled(transport.closed)).toBe(true)
    const after = poll()
    transport.poll(after.req, after.res)
    expect(after.answer.status).toBe(204)
  })

  describe('with a clock', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    it('waits for that next poll no longer than the long-poll idle timeout', async () => {
      vi.useFakeTimers()
      const transport = openTransport()
      transport.send('close message')
      transport.close()
      vi.advanceTimersByTime(59_999)
      expect(await isSettled(transport.closed)).toBe(false)
      vi.advanceTimersByTime(1)
      expect(await isSettled(transport.closed)).toBe(true)
      const late = poll()
      transport.poll(late.req, late.res)
      expect(late.answer.status).toBe(204)
    })
  })

  it('keeps nothing when the client ends the connection (DELETE)', async () => {
    const transport = openTransport()
    transport.send('unread')
    transport.terminate()
    expect(await isSettled(transport.closed)).toBe(true)
    const next = poll()
    transport.poll(next.req, next.res)
    expect(next.answer.status).toBe(204)
  })
})
