import { describe, expect, it } from 'vitest'
import { ReceiveGate } from '../../../src/transports/receive-gate.js'

/** Whether a promise has settled after the microtasks queued so far. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false
  void promise.then(() => (done = true))
  await new Promise((resolve) => setImmediate(resolve))
  return done
}

describe('ReceiveGate', () => {
  it('lets one POST read its body at a time, in arrival order', async () => {
    const gate = new ReceiveGate()
    await expect(gate.enter()).resolves.toBe(true)
    const second = gate.enter()
    expect(await settled(second)).toBe(false)
    gate.leave()
    await expect(second).resolves.toBe(true)
  })

  it('reads no body while held, and goes on when released', async () => {
    const gate = new ReceiveGate()
    gate.hold(true)
    const waiting = gate.enter()
    expect(await settled(waiting)).toBe(false)
    gate.hold(false)
    await expect(waiting).resolves.toBe(true)
  })

  it('lets waiting POSTs go without reading once the transport closed', async () => {
    const gate = new ReceiveGate()
    gate.hold(true)
    const waiting = gate.enter()
    gate.close()
    await expect(waiting).resolves.toBe(false)
    await expect(gate.enter()).resolves.toBe(false)
  })
})
