/**
 * The behaviour every Bus must show, run against each implementation (embedded and NATS) so that
 * code tested on one holds on the other. Negative checks ("not delivered") never sleep: a second,
 * sentinel subscription receives a later message, and by then the first would have had its copy.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Bus, BusMessage, BusStatus } from '../../src/bus/bus.js'
import { ImErrorCode } from '../../src/errors.js'

export interface BusUnderTest {
  readonly bus: Bus
  dispose(): Promise<void>
}

const WAIT = { timeout: 5000, interval: 5 } as const
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const bytes = (text: string): Uint8Array => encoder.encode(text)
export const text = (message: BusMessage): string => decoder.decode(message.data)

let uniqueCounter = 0
/** A subject prefix no other test uses, so tests sharing one nats-server never see each other. */
export function uniqueSubject(label: string): string {
  uniqueCounter += 1
  return `test.${label}.${process.pid}.${Date.now().toString(36)}${uniqueCounter}`
}

/** Collects the messages of a subscription. */
export function collector(): { messages: BusMessage[]; texts: () => string[]; handler: (m: BusMessage) => void } {
  const messages: BusMessage[] = []
  return { messages, texts: () => messages.map(text), handler: (m) => void messages.push(m) }
}

export function runBusContract(name: string, makeBus: () => Promise<BusUnderTest>): void {
  describe(`${name} (bus contract)`, () => {
    const open: BusUnderTest[] = []
    const start = async (): Promise<Bus> => {
      const made = await makeBus()
      open.push(made)
      return made.bus
    }
    afterEach(async () => {
      const all = open.splice(0)
      await Promise.allSettled(all.map((made) => made.dispose()))
    })

    it('reports the connected state', async () => {
      const bus = await start()
      expect(bus.status().state).toBe('connected')
    })

    it('delivers a published message with its data and headers', async () => {
      const bus = await start()
      const subject = uniqueSubject('roundtrip')
      const got = collector()
      bus.subscribe(subject, got.handler)
      await bus.publish(subject, bytes('{"hello":1}'), { headers: { 'Im-Trace': 'abc-1', 'x-lower': 'kept as sent' } })
      await bus.publish(subject, bytes('plain'))
      await vi.waitFor(() => expect(got.messages).toHaveLength(2), WAIT)
      const [first, second] = got.messages
      expect(first?.subject).toBe(subject)
      expect(text(first!)).toBe('{"hello":1}')
      expect(first?.headers?.get('Im-Trace')).toBe('abc-1')
      expect(first?.headers?.get('x-lower')).toBe('kept as sent')
      expect(text(second!)).toBe('plain')
      expect(second?.headers).toBeUndefined()
    })

    it('answers a request through the reply subject; tells a silent listener (timeout) from no listener', async () => {
      const bus = await start()
      const subject = uniqueSubject('request')
      bus.subscribe(subject, (message) => {
        if (message.reply) void bus.publish(message.reply, bytes(`re: ${text(message)}`))
      })
      await bus.ready()
      expect(decoder.decode(await bus.request(subject, bytes('question'), 2000))).toBe('re: question')
      const silent = uniqueSubject('silent')
      bus.subscribe(silent, () => {})
      await bus.ready()
      await expect(bus.request(silent, bytes('anyone?'), 100)).rejects.toMatchObject({ code: ImErrorCode.BusTimeout })
      await expect(bus.request(uniqueSubject('nobody'), bytes('anyone?'), 2000)).rejects.toMatchObject({ code: ImErrorCode.BusNoResponders })
    })

    it("matches '*' to exactly one token and '>' to one or more trailing tokens", async () => {
      const bus = await start()
      const base = uniqueSubject('wild')
      const star = collector()
      const tail = collector()
      bus.subscribe(`${base}.*`, star.handler)
      bus.subscribe(`${base}.>`, tail.handler)
      await bus.publish(base, bytes('bare'))
      await bus.publish(`${base}.a`, bytes('one'))
      await bus.publish(`${base}.a.b`, bytes('two'))
      await vi.waitFor(() => expect(tail.texts()).toEqual(['one', 'two']), WAIT)
      expect(star.texts()).toEqual(['one'])
    })

    it('gives each message to one member of a queue group', async () => {
      const bus = await start()
      const subject = uniqueSubject('queue')
      const a = collector()
      const b = collector()
      bus.subscribe(subject, a.handler, { queue: 'workers' })
      bus.subscribe(subject, b.handler, { queue: 'workers' })
      const sent = Array.from({ length: 20 }, (_, i) => `m${i}`)
      await Promise.all(sent.map((m) => bus.publish(subject, bytes(m))))
      await vi.waitFor(() => expect(a.messages.length + b.messages.length).toBe(sent.length), WAIT)
      expect(new Set([...a.texts(), ...b.texts()]).size).toBe(sent.length)
    })

    it('stops delivering after unsubscribe', async () => {
      const bus = await start()
      const subject = uniqueSubject('unsub')
      const gone = collector()
      const sentinel = collector()
      const subscription = bus.subscribe(subject, gone.handler)
      bus.subscribe(subject, sentinel.handler)
      await bus.publish(subject, bytes('before'))
      await vi.waitFor(() => expect(gone.texts()).toEqual(['before']), WAIT)
      subscription.unsubscribe()
      await bus.publish(subject, bytes('after'))
      await vi.waitFor(() => expect(sentinel.texts()).toEqual(['before', 'after']), WAIT)
      expect(gone.texts()).toEqual(['before'])
    })

    it('keeps a subscription whose handler throws', async () => {
      const bus = await start()
      const subject = uniqueSubject('throws')
      const seen: string[] = []
      bus.subscribe(subject, (message) => {
        seen.push(text(message))
        if (seen.length === 1) throw new Error('handler failure on purpose')
      })
      await bus.publish(subject, bytes('first'))
      await bus.publish(subject, bytes('second'))
      await vi.waitFor(() => expect(seen).toEqual(['first', 'second']), WAIT)
    })

    it('rejects a wildcard or empty-token subject on publish with IM_INVALID_TOPIC', async () => {
      const bus = await start()
      for (const subject of ['a.*', 'a.>', 'a..b', '', 'a b']) {
        await expect(bus.publish(subject, bytes('x'))).rejects.toMatchObject({ code: ImErrorCode.InvalidTopic })
      }
    })

    it('ends delivery on close, reports closed and refuses to publish', async () => {
      const bus = await start()
      const subject = uniqueSubject('close')
      const got = collector()
      const statuses: BusStatus[] = []
      bus.onStatusChange((status) => statuses.push(status))
      bus.subscribe(subject, got.handler)
      await bus.publish(subject, bytes('before'))
      await vi.waitFor(() => expect(got.texts()).toEqual(['before']), WAIT)
      await bus.close()
      expect(bus.status().state).toBe('closed')
      expect(statuses.at(-1)?.state).toBe('closed')
      await expect(bus.publish(subject, bytes('after'))).rejects.toMatchObject({ code: ImErrorCode.BusUnavailable })
      expect(() => bus.subscribe(subject, got.handler)).toThrow(expect.objectContaining({ code: ImErrorCode.BusUnavailable }))
      expect(got.texts()).toEqual(['before'])
    })
  })
}
