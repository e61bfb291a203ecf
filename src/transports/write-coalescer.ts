/**
 * Coalesces the writes of one event-loop turn into one system call per socket. A broadcast hands
 * each socket its frame separately (ws corks and uncorks around each one), so without this every
 * frame costs its own writev: the profile of a 1,000-connection broadcast spent 60% of the node's
 * time there. Corking a socket at its first write of the turn and uncorking all of them together
 * once the turn's work is done makes Node write everything queued for a socket at once (the way
 * nats-server's WebSocket listener reaches its rates).
 */
import type { Socket } from 'node:net'

const corked = new Set<Socket>()
let scheduled = false

function flush(): void {
  scheduled = false
  for (const socket of corked) socket.uncork()
  corked.clear()
}

/** Holds `socket`'s writes until the current turn ends. */
export function coalesce(socket: Socket): void {
  if (corked.has(socket)) return
  socket.cork()
  corked.add(socket)
  if (!scheduled) {
    scheduled = true
    process.nextTick(flush)
  }
}
