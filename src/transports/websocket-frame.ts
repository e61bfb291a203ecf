/**
 * WebSocket data frames built once per payload. A broadcast hands the same serialized message to
 * every socket in a row; `ws` would encode a text payload to UTF-8 and allocate a header for each
 * of them. Here the first socket builds the whole frame (header and payload in one buffer, server
 * frames are unmasked) and the next ones reuse it, so a broadcast to N sockets is one encoding and
 * N writes of the same bytes. One frame is remembered: the last one, which is what a broadcast
 * needs and costs at most one message of memory.
 */
import * as ws from 'ws'

interface FrameOptions {
  readonly fin: boolean
  readonly opcode: number
  readonly mask: boolean
  readonly readOnly: boolean
  readonly rsv1: boolean
}

/** ws's frame builder: exported by the package (ws.Sender), though not in its type definitions. */
const buildFrame = (ws as unknown as { Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] } }).Sender.frame

const TEXT = 1
const BINARY = 2

let lastData: string | Uint8Array | undefined
let lastBinary = false
let lastFrame: Buffer | undefined

/** The frame carrying `data`; the same Buffer for the same payload sent again (it must not be modified). */
export function frameOf(data: string | Uint8Array, binary: boolean): Buffer {
  // A string is compared by content, a byte array by identity (serialized payloads are never reused for other bytes).
  if (data === lastData && binary === lastBinary && lastFrame) return lastFrame
  const payload = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength)
  const parts = buildFrame(payload, { fin: true, opcode: binary ? BINARY : TEXT, mask: false, readOnly: false, rsv1: false })
  lastFrame = parts.length === 1 ? parts[0]! : Buffer.concat(parts)
  lastData = data
  lastBinary = binary
  return lastFrame
}
