/**
 * The bench's message and how load clients read it without JSON.parse. A service publishes
 * `{"method":"tick","args":["<ts16>",<seq>,<phase>,"<pad>"]}` to `im.default.send`; IMService and the
 * references deliver `{"type":1,"target":"tick","arguments":["<ts16>",<seq>,<phase>,"<pad>"]}\x1e`.
 * ts16 is process.hrtime in µs (CLOCK_MONOTONIC, one clock for every process on the machine),
 * zero-padded to 16 digits, so a client finds it at a fixed offset after `"arguments":["`.
 */
export const BROADCAST_SUBJECT = 'im.default.send'
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

const ARGS = Buffer.from('"arguments":["')
const TYPE_INVOCATION = Buffer.from('{"type":1,')
const TYPE_CLOSE = Buffer.from('{"type":7')

export type InboundRecord =
  | { readonly kind: 'tick'; readonly sentAt: number; readonly seq: number; readonly phase: number }
  | { readonly kind: 'handshake' | 'ping' | 'close' | 'other' }

/** Reads the record in `buf[start, end)`: a tick (with its stamp, seq and phase) or what else it is. */
export function readRecord(buf: Buffer, start: number, end: number): InboundRecord {
  if (end - start === 2 && buf[start] === 0x7b && buf[start + 1] === 0x7d) return { kind: 'handshake' }
  if (startsWith(buf, start, TYPE_INVOCATION)) {
    const at = buf.indexOf(ARGS, start)
    if (at < 0 || at >= end) return { kind: 'other' }
    let i = at + ARGS.length
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
