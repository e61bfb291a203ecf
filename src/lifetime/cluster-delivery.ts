/**
 * Delivery across every IMService node that serves a hub. A send from hub code on one node is
 * published once on the hub's internal subject (`im.<hub>.deliver`); every node, this one
 * included, hears it and delivers to the connections it holds. This is the backplane role that
 * ASP.NET Core gives Redis; here NATS already connects the nodes.
 */
import type { Bus } from '../bus/bus.js'
import type { Logger } from '../logger.js'
import type { Delivery, DeliveryTarget, GroupChange } from './delivery.js'
import type { DeliverableConnection, LifetimeManager } from './lifetime-manager.js'

/** The wire form of one node-to-node instruction. */
type DeliverEnvelope =
  | { readonly kind: 'send'; readonly target: DeliveryTarget; readonly method: string; readonly args: readonly unknown[] }
  | { readonly kind: 'group'; readonly change: GroupChange }

export interface ClusterDeliveryOptions {
  readonly bus: Bus
  readonly local: LifetimeManager<DeliverableConnection>
  /** The hub's internal subject, `im.<hub>.deliver`. */
  readonly subject: string
  readonly logger: Logger
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class ClusterDelivery implements Delivery {
  constructor(private readonly options: ClusterDeliveryOptions) {}

  /** Starts applying other nodes' (and our own) instructions to local connections. */
  start(): void {
    this.options.bus.subscribe(this.options.subject, (message) => this.apply(message.data))
  }

  async send(target: DeliveryTarget, method: string, args: readonly unknown[]): Promise<void> {
    // A message for connections this node holds needs no other node.
    if (target.kind === 'connections' && target.ids.every((id) => this.options.local.get(id))) {
      this.options.local.deliver(target, method, args)
      return
    }
    await this.publish({ kind: 'send', target, method, args }, () => this.options.local.deliver(target, method, args))
  }

  async changeGroup(change: GroupChange): Promise<void> {
    if ('connectionId' in change && this.options.local.get(change.connectionId)) {
      this.options.local.applyGroupChange(change)
      return
    }
    await this.publish({ kind: 'group', change }, () => this.options.local.applyGroupChange(change))
  }

  private async publish(envelope: DeliverEnvelope, localFallback: () => void): Promise<void> {
    const { bus, logger, subject } = this.options
    if (bus.status().state !== 'connected') {
      // Without the bus the other nodes are out of reach; this node's connections still get it.
      logger.warn('bus down: delivering to this node only', { subject })
      localFallback()
      return
    }
    await bus.publish(subject, encoder.encode(JSON.stringify(envelope)))
  }

  private apply(data: Uint8Array): void {
    let envelope: DeliverEnvelope
    try {
      envelope = JSON.parse(decoder.decode(data)) as DeliverEnvelope
    } catch {
      this.options.logger.warn('dropped a node-to-node message that is not JSON', { subject: this.options.subject })
      return
    }
    if (envelope.kind === 'send') this.options.local.deliver(envelope.target, envelope.method, envelope.args)
    else if (envelope.kind === 'group') this.options.local.applyGroupChange(envelope.change)
  }
}
