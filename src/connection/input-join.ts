/**
 * A hub message may arrive split over several transport messages (a WebSocket frame boundary, a
 * long-polling POST): the unparsed rest is kept and joined with what comes next, as text while
 * both parts are text and as bytes otherwise.
 */
export function joinInput(head: string | Uint8Array, tail: string | Uint8Array): string | Uint8Array {
  if (typeof head === 'string' && typeof tail === 'string') return head + tail
  const a = typeof head === 'string' ? Buffer.from(head) : head
  const b = typeof tail === 'string' ? Buffer.from(tail) : tail
  return Buffer.concat([a, b])
}
