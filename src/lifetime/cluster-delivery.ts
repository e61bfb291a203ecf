/**
 * Delivery across every IMService node that serves a hub. A send from hub code on one node is
 * published once on the hub's internal subject (`im.<hub>.deliver`); every node, this one
 * included, hears it and delivers to the connections it holds. This is the backplane role that
 * ASP.NET Core gives Redis; here NATS already connects the nodes.
 */
import type { Bus } from '../bus/bus.js'
import { stringifyWireValue } from '../protocol/wire-json.js'
import type { Logger } from '../logger.js'
import type { Delivery, DeliveryTarget, GroupChange } from './delivery.js'
import { shapingProblem } from './delivery-shaping.js'
import type { DeliveryShaping } from './delivery-shaping.js'
import type { DeliverableConnection, LifetimeManager } from './lifetime-manager.js'
import { findTypedValues, restoreTypedValues } from './typed-values.js'
import type { TypedPath } from './typed-values.js'
import { messageOf } from '../errors.js'

/** The wire form of one node-to-node instruction. */
type DeliverEnvelope =
  | {
      readonly kind: 'send'
      readonly target: DeliveryTarget
      readonly method: string
      readonly args: readonly unknown[]
      /** Absent when the message goes at once; a node that predates shaping ignores it and sends at once. */
      readonly shaping?: DeliveryShaping
      /** Where Dates and Uint8Arrays sat in `args`; absent when none did (typed-values.ts). */
      readonly typed?: readonly TypedPath[]
    }
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

  async send(target: DeliveryTarget, method: string, args: readonly unknown[], shaping?: DeliveryShaping): Promise<void> {
    // A message for connections this node holds needs no other node.
    if (target.kind === 'connections' && target.ids.every((id) => this.options.local.get(id))) {
      this.options.local.deliver(target, method, args, shaping)
      return
    }
    const typed = findTypedValues(args)
    const envelope: DeliverEnvelope = { kind: 'send', target, method, args, ...(shaping ? { shaping } : {}), ...(typed.paths.length > 0 ? { typed: typed.paths } : {}) }
    // Without Dates and bytes the plain JSON.stringify is the wire form; the list already looked.
    const plain = typed.complete && typed.paths.length === 0
    await this.publish(envelope, plain, () =>
      this.options.local.deliver(target, method, args, shaping),
    )
  }

  async changeGroup(change: GroupChange): Promise<void> {
    if ('connectionId' in change && this.options.local.get(change.connectionId)) {
      this.options.local.applyGroupChange(change)
      return
    }
    await this.publish({ kind: 'group', change }, true, () => this.options.local.applyGroupChange(change))
  }

  private async publish(envelope: DeliverEnvelope, plain: boolean, localFallback: () => void): Promise<void> {
    const { bus, logger, subject } = this.options
    if (bus.status().state !== 'connected') {
      // Without the bus the other nodes are out of reach; this node's connections still get it.
      logger.warn('bus down: delivering to this node only', { subject })
      localFallback()
      return
    }
    await bus.publish(subject, encoder.encode(plain ? JSON.stringify(envelope) : stringifyWireValue(envelope)))
  }

  /** Another node's membership change: a limit reached here can only be logged. */
  private applyGroupChange(change: GroupChange): void {
    try {
      this.options.local.applyGroupChange(change)
    } catch (error) {
      this.options.logger.warn('group change refused', { subject: this.options.subject, reason: messageOf(error) })
    }
  }

  private apply(data: Uint8Array): void {
    let envelope: unknown
    try {
      envelope = JSON.parse(decoder.decode(data))
    } catch {
      envelope = undefined
    }
    if (isSend(envelope)) {
      restoreTypedValues(envelope.args, envelope.typed)
      this.options.local.deliver(envelope.target, envelope.method, envelope.args, envelope.shaping)
    }
    else if (isGroupChange(envelope)) this.applyGroupChange(envelope.change)
    else this.options.logger.warn('dropped a node-to-node message that is not a delivery instruction', { subject: this.options.subject })
  }
}

type Envelope<K extends DeliverEnvelope['kind']> = Extract<DeliverEnvelope, { kind: K }>

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const isStrings = (value: unknown): boolean => Array.isArray(value) && value.every((v) => typeof v === 'string')
const optionalStrings = (value: unknown): boolean => value === undefined || isStrings(value)

/** Anyone allowed to publish on the subject could send anything: check the shape before use. */
function isSend(value: unknown): value is Envelope<'send'> {
  if (!isRecord(value) || value.kind !== 'send' || typeof value.method !== 'string' || !Array.isArray(value.args)) return false
  if (value.shaping !== undefined && (!isRecord(value.shaping) || shapingProblem(value.shaping) !== undefined)) return false
  const target = value.target
  if (!isRecord(target)) return false
  switch (target.kind) {
    case 'all':
      return optionalStrings(target.except)
    case 'connections':
    case 'users':
      return isStrings(target.ids)
    case 'groups':
      return isStrings(target.names) && optionalStrings(target.except)
    default:
      return false
  }
}

function isGroupChange(value: unknown): value is Envelope<'group'> {
  if (!isRecord(value) || value.kind !== 'group' || !isRecord(value.change)) return false
  const change = value.change
  return (
    (change.op === 'add' || change.op === 'remove') &&
    typeof change.group === 'string' &&
    (typeof change.connectionId === 'string') !== (typeof change.userId === 'string')
  )
}
