import { describe, expect, it } from 'vitest'
import { CapIdGenerator, capHeaders, capIdOf, capSentTime, pascalKeys } from '../../../src/hub/cap-headers.js'

describe('CAP headers', () => {
  it('makes increasing, distinct, positive 63-bit decimal ids per node', () => {
    const ids = new CapIdGenerator('node-a')
    const made = Array.from({ length: 10_000 }, () => ids.next())
    expect(new Set(made).size).toBe(made.length)
    for (const id of made) expect(id).toMatch(/^\d+$/)
    const numbers = made.map(BigInt)
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]! > numbers[i - 1]!).toBe(true)
    expect(numbers.every((n) => n > 0n && n < 1n << 63n)).toBe(true)
  })

  it('names a call by the same numeric id every time, and different calls differently', () => {
    expect(capIdOf('conn-1:7')).toBe(capIdOf('conn-1:7'))
    expect(capIdOf('conn-1:7')).not.toBe(capIdOf('conn-1:8'))
    expect(capIdOf('conn-1:7')).toMatch(/^\d+$/)
    expect(BigInt(capIdOf('conn-1:7')) < 1n << 63n).toBe(true)
  })

  it("writes the sent time as DateTimeOffset.ToString() under the invariant culture", () => {
    expect(capSentTime(new Date('2026-03-04T05:06:07.890Z'))).toBe('03/04/2026 05:06:07 +00:00')
  })

  it('writes the six headers and never cap-msg-group', () => {
    const h = capHeaders('im.default.receive.x', '123', 'IMService.InvocationEnvelope', new Date('2026-12-31T23:59:59Z'))
    expect(h).toEqual({
      'cap-msg-id': '123',
      'cap-msg-name': 'im.default.receive.x',
      'cap-msg-type': 'IMService.InvocationEnvelope',
      'cap-corr-id': '123',
      'cap-corr-seq': '0',
      'cap-senttime': '12/31/2026 23:59:59 +00:00',
    })
  })

  it('pascal-cases top-level properties only', () => {
    expect(pascalKeys({ connectionId: 'c', args: [{ orderId: 1 }] })).toEqual({ ConnectionId: 'c', Args: [{ orderId: 1 }] })
  })
})
