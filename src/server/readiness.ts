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
}

export interface ReadinessInputs {
  readonly bus: BusStatus
  /** True from the start of a graceful stop (SIGTERM) until the process exits. */
  readonly draining: boolean
}

/** Not ready while the bus is not connected, the configured JetStream stream is not in use, or the node drains. */
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
  if (bus.state === 'connected' && stream !== undefined && stream.state !== 'ready') {
    reasons.push(stream.state === 'starting' ? `JetStream stream ${stream.name} being set up` : `JetStream stream ${stream.name} unavailable: ${stream.reason ?? 'unknown'}`)
  }
  if (draining) reasons.push('draining')
  return { ready: reasons.length === 0, reasons }
}
