import { afterEach, describe, expect, it, vi } from 'vitest'
import { ClusterRouter } from '../../../src/cluster/cluster-router.js'
import type { RouterHandlers } from '../../../src/cluster/cluster-router.js'
import { encodeRequest } from '../../../src/cluster/control-messages.js'
import type { Claim, ClaimAnswer } from '../../../src/cluster/control-messages.js'
import type { MoveState } from '../../../src/connection/connection-move.js'
import type { Logger } from '../../../src/logger.js'
import { Metrics } from '../../../src/metrics.js'
import { FakeBus } from '../../support/fake-bus.js'

const PREFIX = 'im.default.node'
const A = 'AAAAAA'
const B = 'BBBBBB'
const C = 'CCCCCC'
const TOKEN_OF_A = `${A}random-part-of-22-chars`
const ASK = { opening: true, resume: false, userId: 'alice' }
const state: MoveState = { buffer: { sent: 2, received: 1, frames: [{ id: 2, frame: 'm2', shared: true }] }, mark: 1, groups: ['g'], streams: [] }

function loggerSpy() {
  return { debug: vi.fn<Logger['debug']>(), info: vi.fn<Logger['info']>(), warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>() }
}

/** A node's router on `bus`, answering with `handlers` (what it is not given, it never expects). */
function node(bus: FakeBus, tag: string, handlers: Partial<RouterHandlers> = {}) {
  const logger = loggerSpy()
  const router = new ClusterRouter({ bus, subjectPrefix: PREFIX, tag, relayTimeoutMs: 1000, logger, metrics: new Metrics() })
  const claims: Claim[] = []
  const full: RouterHandlers = {
    claim: (claim) => {
      claims.push(claim)
      return handlers.claim?.(claim) ?? { kind: 'unknown' }
    },
    replay: handlers.replay ?? (() => Promise.reject(new Error('unexpected replay'))),
    forget: handlers.forget ?? (() => {}),
    take: handlers.take ?? (async () => ({ kind: 'unknown' })),
    held: handlers.held ?? (() => {}),
  }
  router.start(full)
  return { router, logger, claims }
}

describe('ClusterRouter', () => {
  const bus = new FakeBus()
  afterEach(async () => {
    await bus.close()
    bus.down = false
    bus.silent.clear()
    bus.sent.length = 0
  })

  it('asks the node whose tag starts the token, and returns its answer', async () => {
    const offer: ClaimAnswer = { kind: 'offer', offer: { connectionId: 'id', protocol: 'json', groups: [] }, holder: A }
    const a = node(bus, A, { claim: () => offer })
    const b = node(bus, B)
    expect(await b.router.claim(TOKEN_OF_A, ASK)).toEqual(offer)
    expect(a.claims).toEqual([{ kind: 'claim', token: TOKEN_OF_A, by: B, ...ASK, anyone: false }])
  })

  it('asks the node `at` in place of the issuing one', async () => {
    node(bus, A)
    const c = node(bus, C, { claim: () => ({ kind: 'forbidden' }) })
    const b = node(bus, B)
    expect(await b.router.claim(TOKEN_OF_A, ASK, C)).toEqual({ kind: 'forbidden' })
    expect(c.claims).toHaveLength(1)
  })

  it('answers unknown for a token no node could have issued, asking nobody', async () => {
    const b = node(bus, B)
    expect(await b.router.claim('*.>abcdefgh', ASK)).toEqual({ kind: 'unknown' })
    expect(bus.sent).toEqual([])
  })

  it('tells a node that has stopped (nobody listens) from one that does not answer in time', async () => {
    const b = node(bus, B)
    expect(await b.router.claim(TOKEN_OF_A, ASK)).toEqual({ kind: 'node-gone', node: A })
    expect(b.logger.warn).not.toHaveBeenCalled()
    node(bus, A)
    bus.silent.add(`${PREFIX}.${A}`)
    expect(await b.router.claim(TOKEN_OF_A, ASK)).toEqual({ kind: 'node-slow', node: A })
    expect(b.logger.warn).toHaveBeenCalledWith(`node ${A} did not answer a claim within 2000 ms`, expect.objectContaining({ node: A, op: 'claim' }))
  })

  it('says the bus is down when this node has no NATS', async () => {
    node(bus, A)
    const b = node(bus, B)
    bus.down = true
    expect(await b.router.claim(TOKEN_OF_A, ASK)).toEqual({ kind: 'bus-down' })
    expect(await b.router.take(A, TOKEN_OF_A)).toEqual({ kind: 'bus-down' })
    expect(await b.router.relay(A, { method: 'GET', url: '/x', headers: {}, body: '' })).toEqual({ kind: 'bus-down' })
  })

  it('returns an answer it cannot read as a bad answer, with the reason', async () => {
    // A node of another version, answering with what this one does not know.
    bus.subscribe(`${PREFIX}.${A}`, (message) => bus.publish(message.reply!, new TextEncoder().encode('{"moved":true}')))
    const b = node(bus, B)
    const answer = await b.router.claim(TOKEN_OF_A, ASK)
    expect(answer).toEqual({ kind: 'bad-answer', node: A, reason: 'claim answer: none of "unknown", "forbidden", "handover", "offer", "holder"' })
    expect(b.logger.warn).toHaveBeenCalledWith(expect.stringContaining('cannot read'), { node: A, op: 'claim' })
  })

  it('drops a control message it cannot read, logging why, and answers nothing', async () => {
    const a = node(bus, A)
    await expect(bus.request(`${PREFIX}.${A}`, new TextEncoder().encode('{"op":"claim","token":"t"}'), 1000)).rejects.toMatchObject({ code: 'IM_BUS_TIMEOUT' })
    expect(a.claims).toEqual([])
    expect(a.logger.warn).toHaveBeenCalledWith('dropped a node-to-node control message: claim: "by" is not a node tag', { subject: `${PREFIX}.${A}` })
  })

  describe('a claim sent to every node', () => {
    it('is answered by the node holding the connection, with its offer', async () => {
      const offer: ClaimAnswer = { kind: 'offer', offer: { connectionId: 'id', protocol: 'json', groups: ['g'] }, holder: C }
      const a = node(bus, A)
      const c = node(bus, C, { claim: () => offer })
      const b = node(bus, B)
      expect(await b.router.claimAnyone(TOKEN_OF_A, { ...ASK, resume: true })).toEqual(offer)
      // Every node hears it, and none takes over an unopened connection for it.
      expect([...a.claims, ...c.claims, ...b.claims].map((claim) => [claim.anyone, claim.opening])).toEqual([[true, false], [true, false], [true, false]])
    })

    it('means no node holds the connection when nobody offers it, or no other node is there', async () => {
      const b = node(bus, B, { claim: () => ({ kind: 'offer', offer: { connectionId: 'id', protocol: 'json', groups: [] }, holder: B }) })
      // B hears its own claim and never answers it.
      expect(await b.router.claimAnyone(TOKEN_OF_A, ASK)).toEqual({ kind: 'unknown' })
      node(bus, A, { claim: () => ({ kind: 'held-by', holder: A }) })
      expect(await b.router.claimAnyone(TOKEN_OF_A, ASK)).toEqual({ kind: 'unknown' })
      expect(b.logger.warn).not.toHaveBeenCalled()
    })
  })

  it('takes the state of a connection from its holder, or hears there is none', async () => {
    const takes: Array<[string, string]> = []
    node(bus, A, {
      take: async (token, by) => {
        takes.push([token, by])
        return token === TOKEN_OF_A ? { kind: 'state', state } : { kind: 'unknown' }
      },
    })
    const b = node(bus, B)
    expect(await b.router.take(A, TOKEN_OF_A)).toEqual({ kind: 'state', state })
    expect(await b.router.take(A, `${A}other`)).toEqual({ kind: 'unknown' })
    expect(takes).toEqual([[TOKEN_OF_A, B], [`${A}other`, B]])
  })

  it('plays a relayed request on the holder and carries its response back', async () => {
    const request = { method: 'POST', url: `/default?id=${TOKEN_OF_A}`, headers: { 'content-type': 'text/plain' }, body: 'aGk=' }
    node(bus, A, { replay: async (relayed) => ({ status: 200, headers: { echo: relayed.body }, body: '' }) })
    const b = node(bus, B)
    expect(await b.router.relay(A, request)).toEqual({ kind: 'relayed', response: { status: 200, headers: { echo: 'aGk=' }, body: '' } })
  })

  it('tells the issuing node that a connection is held elsewhere, or has ended; never itself', async () => {
    const held = vi.fn()
    const forget = vi.fn()
    const a = node(bus, A, { held, forget })
    const b = node(bus, B)
    b.router.held(TOKEN_OF_A)
    b.router.ended(TOKEN_OF_A)
    a.router.ended(TOKEN_OF_A)
    a.router.held(TOKEN_OF_A)
    await bus.settled()
    expect(held.mock.calls).toEqual([[TOKEN_OF_A, B]])
    expect(forget.mock.calls).toEqual([[TOKEN_OF_A]])
    expect(bus.sent.map(([subject]) => subject)).toEqual([`${PREFIX}.${A}`, `${PREFIX}.${A}`])
  })

  it('sends notices in the wire form of control-messages.ts', async () => {
    node(bus, A)
    node(bus, B).router.held(TOKEN_OF_A)
    await bus.settled()
    expect(bus.sent).toEqual([[`${PREFIX}.${A}`, new TextDecoder().decode(encodeRequest({ kind: 'held', token: TOKEN_OF_A, by: B }))]])
  })
})
