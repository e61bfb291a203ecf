import { describe, expect, it } from 'vitest'
import type { BusStatus } from '../../../src/bus/bus.js'
import { readiness } from '../../../src/server/readiness.js'

const SERVER = 'nats://nats-1:4222'
const nats = (state: BusStatus['state'], stream?: BusStatus['stream']): BusStatus => ({ kind: 'nats', state, server: SERVER, ...(stream ? { stream } : {}) })

describe('readiness', () => {
  it.each<[string, BusStatus, boolean, readonly string[]]>([
    ['embedded bus', { kind: 'embedded', state: 'connected' }, false, []],
    ['connected NATS', nats('connected'), false, []],
    ['NATS never reached yet', nats('connecting'), false, [`bus connecting to ${SERVER}`]],
    ['NATS lost', nats('reconnecting'), false, [`bus reconnecting to ${SERVER}`]],
    ['bus closed at the end of a drain', nats('closed'), true, ['bus closed', 'draining']],
    ['draining while connected', nats('connected'), true, ['draining']],
    ['stream in use', nats('connected', { name: 'IM', state: 'ready' }), false, []],
    ['stream being set up', nats('connected', { name: 'IM', state: 'starting' }), false, ['JetStream stream IM being set up']],
    ['stream unusable', nats('connected', { name: 'IM', state: 'unavailable', reason: 'no JetStream' }), false, ['JetStream stream IM unavailable: no JetStream; its subjects come from core NATS']],
    // The bus reason covers the stream: it cannot be reached without NATS.
    ['stream behind a lost bus', nats('reconnecting', { name: 'IM', state: 'unavailable', reason: 'x' }), true, [`bus reconnecting to ${SERVER}`, 'draining']],
  ])('%s', (_, bus, draining, reasons) => {
    expect(readiness({ bus, draining })).toEqual({ ready: reasons.length === 0, reasons })
  })

  it('stays ready while a stream that worked recovers, with a note that core NATS delivers meanwhile', () => {
    expect(readiness({ bus: nats('connected', { name: 'IM', state: 'recovering', reason: '2 heartbeats missed' }), draining: false })).toEqual({
      ready: true,
      reasons: [],
      notes: ['JetStream stream IM recovering (2 heartbeats missed); its subjects come from core NATS meanwhile'],
    })
  })
})
