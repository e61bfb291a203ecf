import { EventEmitter } from 'node:events'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, expect, it } from 'vitest'
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
})
