/**
 * The bench's message and how load clients read it without JSON.parse. A service publishes
 * `{"method":"tick","args":["<ts16>",<seq>,<phase>,"<pad>"]}` to `im.default.send`; IMService and the
 * references deliver `{"type":1,"target":"tick","arguments":["<ts16>",<seq>,<phase>,"<pad>"]}\x1e`.
 * ts16 is process.hrtime in µs (CLOCK_MONOTONIC, one clock for every process on the machine),
 * zero-padded to 16 digits, so a client finds it at a fixed offset after `"arguments":["`.
 */
export const BROADCAST_SUBJECT = 'im.default.send'
export const USER_SUBJECT = 'im.default.send.user'
/** Where IMService forwards a client's `publish(topic, ...)`; the bench's topics are `bench.p<phase>`. */
export const RECEIVE_PREFIX = 'im.default.receive.'
export const HUB_PATH = '/signalr-hubs/default'
export const METHOD = 'tick'
export const RECORD_SEPARATOR = 0x1e
export const HANDSHAKE_REQUEST = '{"protocol":"json","version":1}\x1e'
export const PING = '{"type":6}\x1e'

/** Padding that makes the delivered frame about 100 bytes, the size the research measured. */
const PAD = 'x'.repeat(24)

export function nowMicros(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

/** The service payload for message `seq` of `phase`, stamped now. */
export function tickPayload(seq: number, phase: number): string {
  return `{"method":"${METHOD}","args":["${String(nowMicros()).padStart(16, '0')}",${seq},${phase},"${PAD}"]}`
}

/** The same message for one user, on `im.default.send.user` (docs/service-api.md). */
export function userTickPayload(userId: string, seq: number, phase: number): string {
  return `{"userId":"${userId}","method":"${METHOD}","args":["${String(nowMicros()).padStart(16, '0')}",${seq},${phase},"${PAD}"]}`
}

/** The same message's arguments, stamped now, for publishers that take arguments (the Socket.IO emitter). */
export function tickArgs(seq: number, phase: number): [string, number, number, string] {
  return [String(nowMicros()).padStart(16, '0'), seq, phase, PAD]
}

const ARGS = Buffer.from('"arguments":["')
const TYPE_INVOCATION = Buffer.from('{"type":1,')
const TYPE_CLOSE = Buffer.from('{"type":7')
const TYPE_COMPLETION = Buffer.from('{"type":3,"invocationId":"')
const ERROR_FIELD = Buffer.from('"error":')

export type InboundRecord =
  | { readonly kind: 'tick'; readonly sentAt: number; readonly seq: number; readonly phase: number }
  | { readonly kind: 'completion'; readonly id: number; readonly error: boolean }
  | { readonly kind: 'handshake' | 'ping' | 'close' | 'other' }

/**
 * Reads `<ts16>",<seq>,<phase>` from `i` (the stamp's first digit): the tick's arguments, whatever
 * frames them (a SignalR invocation, a NATS message carrying the service's payload).
 */
export function readTickArgs(buf: Buffer, i: number, end: number): InboundRecord {
  const sentAt = digits(buf, i, i + 16)
  i += 18 // 16 digits, the closing quote and the comma
  let seq = 0
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) seq = seq * 10 + buf[i++]! - 0x30
  i += 1
  let phase = 0
  while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) phase = phase * 10 + buf[i++]! - 0x30
  if (Number.isNaN(sentAt)) return { kind: 'other' }
  return { kind: 'tick', sentAt, seq, phase }
}

/** Reads the record in `buf[start, end)`: a tick (with its stamp, seq and phase) or what else it is. */
export function readRecord(buf: Buffer, start: number, end: number): InboundRecord {
  if (end - start === 2 && buf[start] === 0x7b && buf[start + 1] === 0x7d) return { kind: 'handshake' }
  if (startsWith(buf, start, TYPE_INVOCATION)) {
    const at = buf.indexOf(ARGS, start)
    if (at < 0 || at >= end) return { kind: 'other' }
    return readTickArgs(buf, at + ARGS.length, end)
  }
  if (startsWith(buf, start, TYPE_COMPLETION)) {
    // `{"type":3,"invocationId":"<digits>"` then `,"result":...` or `,"error":"..."`.
    let i = start + TYPE_COMPLETION.length
    let id = 0
    while (i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39) id = id * 10 + buf[i++]! - 0x30
    const error = buf.indexOf(ERROR_FIELD, i)
    return { kind: 'completion', id, error: error >= 0 && error < end }
  }
  if (startsWith(buf, start, TYPE_CLOSE)) return { kind: 'close' }
  if (end - start === 10 && buf.toString('latin1', start, end) === '{"type":6}') return { kind: 'ping' }
  return { kind: 'other' }
}

function startsWith(buf: Buffer, start: number, prefix: Buffer): boolean {
  if (buf.length - start < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (buf[start + i] !== prefix[i]) return false
  return true
}

function digits(buf: Buffer, from: number, to: number): number {
  let value = 0
  for (let i = from; i < to; i++) {
    const c = buf[i]
    if (c === undefined || c < 0x30 || c > 0x39) return Number.NaN
    value = value * 10 + c - 0x30
  }
  return value
}

/**
 * The Socket.IO side of the same message: the emitter sends event `tick` with the same four
 * arguments, and clients receive the Engine.IO message packet `4` carrying the Socket.IO EVENT
 * packet `2` for the default namespace: `42["tick","<ts16>",<seq>,<phase>,"<pad>"]`.
 */
export const SOCKETIO_PATH = '/socket.io/?EIO=4&transport=websocket'
const SIO_TICK = '42["tick","'

/** Reads one Engine.IO text packet (a whole WebSocket message): a tick, or which control packet it is. */
export function readSocketIoPacket(text: string): InboundRecord | { readonly kind: 'open' | 'connected' } {
  if (text.startsWith(SIO_TICK)) {
    let i = SIO_TICK.length
    let sentAt = 0
    for (const end = i + 16; i < end; i++) {
      const c = text.charCodeAt(i)
      if (c < 0x30 || c > 0x39) return { kind: 'other' }
      sentAt = sentAt * 10 + c - 0x30
    }
    i += 2 // the closing quote and the comma
    let seq = 0
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) seq = seq * 10 + c - 0x30
    i += 1
    let phase = 0
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) phase = phase * 10 + c - 0x30
    return { kind: 'tick', sentAt, seq, phase }
  }
  if (text.startsWith('43')) {
    // An ack of the client's event `42<id>[...]`: `43<id>[...]`.
    let id = 0
    for (let i = 2, c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) id = id * 10 + c - 0x30
    return { kind: 'completion', id, error: false }
  }
  if (text === '2') return { kind: 'ping' }
  if (text.startsWith('0{')) return { kind: 'open' }
  if (text.startsWith('40')) return { kind: 'connected' }
  // Engine.IO close (1) or Socket.IO DISCONNECT (41): the server let the client go.
  if (text === '1' || text.startsWith('41')) return { kind: 'close' }
  return { kind: 'other' }
}
