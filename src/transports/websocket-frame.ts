/**
 * Serializes a WebSocket data frame with ws's own frame builder, the one place IMService uses it.
 *
 * Why not `WebSocket.send`: it takes the payload and builds the frame itself for each socket, so
 * a broadcast to N sockets would encode the payload and allocate a header N times. ws has no
 * public API that serializes a message once for many sockets; `Sender.frame` is exported by the
 * package (`require('ws').Sender`) though absent from its type definitions. Server frames are
 * unmasked and we never compress (perMessageDeflate is off), so the frame is plain bytes any of
 * our sockets can carry. test/unit/transports/websocket-frame.test.ts fails if ws changes it.
 */
import * as ws from 'ws'

interface FrameOptions {
  readonly fin: boolean
  readonly opcode: number
  readonly mask: boolean
  readonly readOnly: boolean
  readonly rsv1: boolean
}

const sender = (ws as unknown as { Sender?: { frame?(data: Buffer, options: FrameOptions): Buffer[] } }).Sender
if (typeof sender?.frame !== 'function') throw new TypeError('ws no longer exports Sender.frame: see src/transports/websocket-frame.ts')
const buildFrame = sender.frame.bind(sender)

const TEXT = 1
const BINARY = 2

/** One final, unmasked, uncompressed text or binary frame carrying `data`, as one Buffer. */
export function webSocketFrame(data: string | Uint8Array, binary: boolean): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const parts = buildFrame(payload, { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: false, rsv1: false })
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts)
}
