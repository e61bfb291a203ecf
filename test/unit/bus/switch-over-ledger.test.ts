import { describe, expect, it } from 'vitest'
import type { BusMessage } from '../../../src/bus/bus.js'
import { SwitchOverLedger } from '../../../src/bus/switch-over-ledger.js'

const encoder = new TextEncoder()
const message = (body: string, headers?: Record<string, string>, subject = 'im.default.send'): BusMessage => ({
  subject,
  data: encoder.encode(body),
  ...(headers ? { headers: new Map(Object.entries(headers)) } : {}),
})

function ledger(): { ledger: SwitchOverLedger; advance(ms: number): void } {
  let now = 1_000_000
  return { ledger: new SwitchOverLedger({ duplicateWindowMs: 300_000, switchOverMs: 10_000, maxKeys: 100, now: () => now }), advance: (ms) => void (now += ms) }
}

describe('the switch-over ledger', () => {
  it('lets the first path deliver a message with an id and skips it on the other, either way round', () => {
    const { ledger: l } = ledger()
    l.coreServing(true)
    expect(l.repeated('core', message('a', { 'Nats-Msg-Id': 'm-1' }))).toBe(false)
    expect(l.repeated('stream', message('a', { 'Nats-Msg-Id': 'm-1' }))).toBe(true)
    expect(l.repeated('stream', message('b', { 'cap-msg-id': '42' }))).toBe(false)
    expect(l.repeated('core', message('b', { 'cap-msg-id': '42' }))).toBe(true)
    expect(l.skipped).toBe(2)
  })

  it('remembers ids from the stream while core NATS is not serving: a retry reaching core later is skipped', () => {
    const { ledger: l, advance } = ledger()
    expect(l.repeated('stream', message('a', { 'Nats-Msg-Id': 'm-1' }))).toBe(false)
    advance(240_000)
    l.coreServing(true)
    expect(l.repeated('core', message('a', { 'Nats-Msg-Id': 'm-1' }))).toBe(true)
    advance(61_000)
    expect(l.repeated('core', message('a', { 'Nats-Msg-Id': 'm-1' }))).toBe(false)
  })

  it('pairs id-less messages by subject and bytes: each copy cancels one from the other path', () => {
    const { ledger: l } = ledger()
    l.coreServing(true)
    // Two identical publishes and one other, delivered by core first.
    expect(l.repeated('core', message('same'))).toBe(false)
    expect(l.repeated('core', message('same'))).toBe(false)
    expect(l.repeated('core', message('other'))).toBe(false)
    expect(l.repeated('core', message('same', undefined, 'im.default.send.user'))).toBe(false)
    // The stream then brings its copies: each is matched once, the third 'same' is new.
    expect(l.repeated('stream', message('same'))).toBe(true)
    expect(l.repeated('stream', message('other'))).toBe(true)
    expect(l.repeated('stream', message('same'))).toBe(true)
    expect(l.repeated('stream', message('same'))).toBe(false)
    expect(l.repeated('stream', message('same', undefined, 'im.default.send.user'))).toBe(true)
    // And a core copy of that stream-first message is skipped.
    expect(l.repeated('core', message('same'))).toBe(true)
  })

  it('stops pairing id-less messages once the switch-over time after core NATS stopped has passed', () => {
    const { ledger: l, advance } = ledger()
    l.coreServing(true)
    expect(l.repeated('core', message('x'))).toBe(false)
    l.coreServing(false)
    advance(9_000)
    expect(l.repeated('core', message('y'))).toBe(false)
    expect(l.repeated('stream', message('x'))).toBe(true)
    advance(2_000)
    // Past it, the unpaired 'y' is forgotten: a new stream message with those bytes is delivered.
    expect(l.repeated('stream', message('y'))).toBe(false)
  })

  it('pairs nothing while core NATS has not served: the healthy stream path delivers everything', () => {
    const { ledger: l } = ledger()
    expect(l.repeated('stream', message('z'))).toBe(false)
    expect(l.repeated('stream', message('z'))).toBe(false)
    expect(l.skipped).toBe(0)
  })

  it('keeps at most maxKeys unpaired digests, forgetting the oldest', () => {
    const { ledger: l } = ledger()
    l.coreServing(true)
    for (let i = 0; i <= 100; i++) l.repeated('core', message(`m${i}`))
    expect(l.repeated('stream', message('m0'))).toBe(false)
    expect(l.repeated('stream', message('m100'))).toBe(true)
  })
})
