import { describe, expect, it } from 'vitest'
import { overlap } from '../../../src/connection/connection-move.js'
import { MessageBuffer } from '../../../src/connection/message-buffer.js'

const bytes = (...values: number[]): Uint8Array => new Uint8Array(values)

describe('overlap', () => {
  it('is the longest start of what was collected that ends what the holder sent', () => {
    expect(overlap(['a', 'b', 'c'], ['b', 'c', 'd'])).toBe(2)
    expect(overlap(['a', 'b', 'c'], ['c'])).toBe(1)
    expect(overlap(['a', 'b'], ['a', 'b'])).toBe(2)
    expect(overlap(['a', 'b'], ['c', 'd'])).toBe(0)
    expect(overlap([], ['a'])).toBe(0)
    expect(overlap(['a'], [])).toBe(0)
  })

  it('compares binary frames by content', () => {
    expect(overlap([bytes(1, 2), bytes(3)], [bytes(3), bytes(4)])).toBe(1)
    expect(overlap([bytes(1, 2)], [bytes(1, 3)])).toBe(0)
  })
})

describe('MessageBuffer.adopt', () => {
  it('puts the old node first, then what was collected that it had not sent, numbered on', () => {
    const collecting = new MessageBuffer(100_000)
    collecting.track('m5', true)
    collecting.track('m6', true)
    collecting.track('own', false)
    const ok = collecting.adopt(
      {
        sent: 5,
        received: 9,
        frames: [
          { id: 3, frame: 'm3', shared: true },
          { id: 4, frame: 'm4', shared: true },
          { id: 5, frame: 'm5', shared: true },
        ],
      },
      3,
    )
    expect(ok).toBe(true)
    expect(collecting.replay()).toEqual({ sequenceId: 3, frames: ['m3', 'm4', 'm5', 'm6', 'own'] })
    expect(collecting.state().sent).toBe(7)
    // The client's messages go on from where the old node had them.
    expect(collecting.resetReceiving(10)).toBe(true)
    expect(collecting.resetReceiving(11)).toBe(false)
  })

  it('looks for the overlap only among frames sent after the mark', () => {
    const collecting = new MessageBuffer(100_000)
    collecting.track('same', true)
    // 'same' was sent before the offer: the one collected is a new message with the same bytes.
    collecting.adopt({ sent: 2, received: 0, frames: [{ id: 2, frame: 'same', shared: true }] }, 2)
    expect(collecting.replay().frames).toEqual(['same', 'same'])
  })

  it('says when the result is past the limit', () => {
    const collecting = new MessageBuffer(4)
    collecting.track('abc', true)
    expect(collecting.adopt({ sent: 1, received: 0, frames: [{ id: 1, frame: 'xy', shared: true }] }, 1)).toBe(false)
  })
})
