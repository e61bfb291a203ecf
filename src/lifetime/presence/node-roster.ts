/**
 * Which nodes of the cluster are alive, as each node sees it, with no central node: every node
 * says "alive" on a core NATS subject once per lease interval, and counts a node it has not heard
 * for LEASES_TO_DEATH intervals as gone. A node that hears a heartbeat from a node it does not know
 * says "alive" at once, out of turn: a node that has just started learns every other node within a
 * round trip, not a whole interval later, so its first presence answers are complete. A presence
 * question waits for the answers of the nodes alive here; a gone node's users are taken out of the
 * shared presence table.
 */
import type { Bus, BusMessage, BusSubscription } from '../../bus/bus.js'
import type { Logger } from '../../logger.js'

/** Intervals without a heartbeat after which a node counts as gone. */
export const LEASES_TO_DEATH = 3

export interface NodeRosterOptions {
  readonly bus: Bus
  /** The heartbeat subject. */
  readonly subject: string
  /** This node's tag: new with every start, so a restarted node is another member. */
  readonly tag: string
  readonly leaseMs: number
  /** A node not heard for LEASES_TO_DEATH intervals (called once per such node). */
  readonly gone: (tag: string) => void
  readonly logger: Logger
  /** The clock, for tests. */
  readonly now?: () => number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class NodeRoster {
  /** Other nodes by tag, with when each was last heard. */
  private readonly heard = new Map<string, number>()
  private subscription: BusSubscription | undefined
  private timer: NodeJS.Timeout | undefined
  private readonly now: () => number
  private readonly beat: Uint8Array
  /** Since when this node hears the bus without a break; undefined while it does not. */
  private listeningSince: number | undefined

  constructor(private readonly options: NodeRosterOptions) {
    this.now = options.now ?? Date.now
    this.beat = encoder.encode(JSON.stringify({ tag: options.tag }))
  }

  start(): void {
    this.subscription = this.options.bus.subscribe(this.options.subject, (message) => this.onBeat(message))
    this.tick()
    this.timer = setInterval(() => this.tick(), this.options.leaseMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.subscription?.unsubscribe()
  }

  /** The tags of the nodes alive as this node sees them, its own included. */
  alive(): string[] {
    return [this.options.tag, ...this.heard.keys()]
  }

  /**
   * True when this node has heard the bus, without a break, long enough to have heard every node
   * that is alive: only then may a node it does not know count as gone.
   */
  get settled(): boolean {
    return this.listeningSince !== undefined && this.now() - this.listeningSince >= LEASES_TO_DEATH * this.options.leaseMs
  }

  /**
   * Says "alive", and lets go of the nodes not heard for too long. While this node itself is cut
   * off from the bus, silence proves nothing about the others: nobody is let go, and once it hears
   * again every node gets a fresh LEASES_TO_DEATH intervals to be heard.
   */
  tick(): void {
    if (this.options.bus.status().state !== 'connected') {
      this.listeningSince = undefined
      return
    }
    if (this.listeningSince === undefined) {
      this.listeningSince = this.now()
      for (const tag of this.heard.keys()) this.heard.set(tag, this.listeningSince)
    }
    this.sayAlive()
    const deadline = this.now() - LEASES_TO_DEATH * this.options.leaseMs
    for (const [tag, at] of this.heard) {
      if (at >= deadline) continue
      this.heard.delete(tag)
      this.options.logger.info('a node is gone: no heartbeat', { node: tag, silentMs: this.now() - at })
      this.options.gone(tag)
    }
  }

  private onBeat(message: BusMessage): void {
    let tag: unknown
    try {
      tag = (JSON.parse(decoder.decode(message.data)) as { tag?: unknown }).tag
    } catch {
      return
    }
    if (typeof tag !== 'string' || tag === this.options.tag) return
    const known = this.heard.has(tag)
    this.heard.set(tag, this.now())
    if (known) return
    this.options.logger.debug('a node is alive', { node: tag })
    // A newcomer's first beat: answer it now so it need not wait an interval to hear this node.
    // Only an unknown tag triggers this, so it costs one message per node per node start.
    this.sayAlive()
  }

  private sayAlive(): void {
    this.options.bus.publish(this.options.subject, this.beat, { confirm: false }).catch(() => undefined)
  }
}
