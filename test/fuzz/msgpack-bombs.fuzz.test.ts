/**
 * Properties of the MessagePack bounds check against declared-length bombs: every frame whose
 * headers declare more than it holds is refused with a bounds error before it is decoded, the
 * messages before it are kept, memory does not grow with what the headers declare, and a mix of
 * headers of any length and any bytes gets only documented answers.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MessagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import { checkMsgpackBounds } from '../../src/protocol/msgpack-bounds.js'
import { budget, timeoutFor } from './fuzz-budget.js'
import { concatBytes, hubMessage, isWellTyped } from './hub-message-arbitraries.js'
import { declaredLengthBomb, MSGPACK_BOUNDS_ERRORS, msgpackHeaderSoup } from './msgpack-bomb-arbitraries.js'

const msgpack = new MessagePackHubProtocol()
const TIMEOUT = timeoutFor(10_000)
const MB = 1024 * 1024

const isBoundsError = (error: string | undefined): boolean => error !== undefined && MSGPACK_BOUNDS_ERRORS.some((pattern) => pattern.test(error))

describe('MessagePack declared-length bombs', () => {
  it('refuses every bomb with a bounds error, keeping the valid messages before it', () => {
    const heapBefore = process.memoryUsage().heapUsed
    fc.assert(
      fc.property(fc.array(hubMessage(), { maxLength: 3 }), declaredLengthBomb, (before, bomb) => {
        const result = msgpack.parseMessages(concatBytes([...before.map((m) => msgpack.writeMessage(m).slice()), bomb]))
        expect(isBoundsError(result.error), result.error).toBe(true)
        expect(result.messages).toHaveLength(before.length)
        expect(result.rest).toBeUndefined()
      }),
      budget(0xb0b1, 300),
    )
    // One unchecked array 32 header of ten million elements costs 80 MB; a refused frame, nothing that stays.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * MB)
  }, TIMEOUT)

  it('answers headers of any declared length among any bytes with well-typed messages or a documented error', () => {
    fc.assert(
      fc.property(msgpackHeaderSoup, (frame) => {
        const result = msgpack.parseMessages(frame)
        for (const message of result.messages) expect(isWellTyped(message), JSON.stringify(message)).toBe(true)
        // A frame the bounds check refuses gets its refusal; one it passes is left to the decoder
        // and the message reader, whose errors are not the bounds check's.
        const refused = checkMsgpackBounds(frame.subarray(frame.length - lengthOfPayload(frame)))
        if (refused !== undefined) expect(result.error).toBe(refused)
        else expect(result.error ?? '').not.toMatch(/^Error reading MessagePack data: /)
      }),
      budget(0xb0b2, 300),
    )
  }, TIMEOUT)
})

/** The payload length a frame's VarInt prefix announces (the soup's frames always hold all of it). */
function lengthOfPayload(frame: Uint8Array): number {
  let length = 0
  for (let i = 0; ; i++) {
    length += (frame[i]! & 0x7f) * 2 ** (7 * i)
    if ((frame[i]! & 0x80) === 0) return length
  }
}
