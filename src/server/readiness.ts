/**
 * Whether a node should be given new clients: the answer of `GET /healthz/ready`. Liveness is
 * another question (the process serves at all): a node whose NATS is away is alive, keeps its
 * clients and must not be restarted, but a balancer should send new ones elsewhere.
 */
import type { BusStatus } from '../bus/bus.js'

export interface Readiness {
  readonly ready: boolean
  /** Why the node is not ready, one short sentence each; empty when it is. */
  readonly reasons: readonly string[]
  /** What an operator should know although the node is ready (it delivers from core NATS); absent when nothing. */
  readonly notes?: readonly string[]
}

export interface ReadinessInputs {
  readonly bus: BusStatus
  /** True from the start of a graceful stop (SIGTERM) until the process exits. */
  readonly draining: boolean
}

/**
 * Not ready while the bus is not connected, the configured JetStream stream could not be set up,
 * or the node drains. A stream that worked and stalled leaves the node ready: it delivers from core
 * NATS meanwhile (a note says so), and a stream outage must not take every node out of a balancer.
 */
export function readiness({ bus, draining }: ReadinessInputs): Readiness {
  const reasons: string[] = []
  const server = bus.server === undefined ? '' : ` to ${bus.server}`
  switch (bus.state) {
    case 'connected':
      break
    case 'connecting':
      reasons.push(`bus connecting${server}`)
      break
    case 'reconnecting':
      reasons.push(`bus reconnecting${server}`)
      break
    case 'closed':
      reasons.push('bus closed')
      break
  }
  // While the bus is down the stream cannot be reached either: the bus reason says it all.
  const stream = bus.stream
  const notes: string[] = []
  if (bus.state === 'connected' && stream !== undefined) {
    if (stream.state === 'starting') reasons.push(`JetStream stream ${stream.name} being set up`)
    if (stream.state === 'unavailable') reasons.push(`JetStream stream ${stream.name} unavailable: ${stream.reason ?? 'unknown'}; its subjects come from core NATS`)
    if (stream.state === 'recovering') notes.push(`JetStream stream ${stream.name} recovering (${stream.reason ?? 'unknown'}); its subjects come from core NATS meanwhile`)
  }
  if (draining) reasons.push('draining')
  return { ready: reasons.length === 0, reasons, ...(notes.length > 0 ? { notes } : {}) }
}
