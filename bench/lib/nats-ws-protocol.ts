/**
 * The NATS client protocol as a raw load client speaks it over nats-server's WebSocket listener:
 * the server opens with `INFO {...}`, the client answers `CONNECT`, `SUB` and a `PING` whose `PONG`
 * proves the subscription is registered; then `MSG <subject> <sid> <#bytes>\r\n<payload>\r\n`
 * for every message and `PING` to be answered with `PONG`. nats-server frames its outbound buffer
 * as it likes, so one protocol line may span WebSocket messages: the reader keeps a remainder.
 */
import type { InboundRecord } from './protocol.js'
import { readTickArgs } from './protocol.js'

export const NATS_PONG = 'PONG\r\n'

/** What a client sends once it has the server's INFO: no echo of +OK, no headers, the one subscription, a PING to sync. */
export function natsGreeting(subject: string): string {
  const options = { verbose: false, pedantic: false, protocol: 1, headers: false, no_responders: false, name: 'bench-natsws', lang: 'raw', version: '0' }
  return `CONNECT ${JSON.stringify(options)}\r\nSUB ${subject} 1\r\nPING\r\n`
}

const CRLF = Buffer.from('\r\n')
const ARGS = Buffer.from('"args":["')

export type NatsRecord = InboundRecord | { readonly kind: 'info' | 'pong' }

/** One connection's reader: `push` each WebSocket message, get back the complete records it finished. */
export class NatsStreamReader {
  private rest: Buffer | undefined

  push(data: Buffer, out: (record: NatsRecord) => void): void {
    const buf = this.rest ? Buffer.concat([this.rest, data]) : data
    this.rest = undefined
    let start = 0
    while (start < buf.length) {
      const eol = buf.indexOf(CRLF, start)
      if (eol < 0) break
      // MSG carries a payload after its line: wait until all of it (and its CRLF) is here.
      if (buf[start] === 0x4d /* M */ && buf[start + 1] === 0x53 /* S */) {
        const size = trailingNumber(buf, start, eol)
        const payloadEnd = eol + 2 + size
        if (payloadEnd + 2 > buf.length) break
        const at = buf.indexOf(ARGS, eol + 2)
        out(at < 0 || at >= payloadEnd ? { kind: 'other' } : readTickArgs(buf, at + ARGS.length, payloadEnd))
        start = payloadEnd + 2
        continue
      }
      out(control(buf, start, eol))
      start = eol + 2
    }
    if (start < buf.length) this.rest = Buffer.from(buf.subarray(start))
  }
}

function control(buf: Buffer, start: number, end: number): NatsRecord {
  const word = buf.toString('latin1', start, Math.min(end, start + 4))
  if (word === 'PING') return { kind: 'ping' }
  if (word === 'PONG') return { kind: 'pong' }
  if (word === 'INFO') return { kind: 'info' }
  if (word === '-ERR') return { kind: 'close' }
  return { kind: 'other' } // +OK and anything unexpected
}

/** The last space-separated token of the line `buf[start, end)`, as a number (a MSG line's byte count). */
function trailingNumber(buf: Buffer, start: number, end: number): number {
  let i = end - 1
  while (i > start && buf[i] !== 0x20) i--
  let n = 0
  for (let j = i + 1; j < end; j++) n = n * 10 + buf[j]! - 0x30
  return n
}
