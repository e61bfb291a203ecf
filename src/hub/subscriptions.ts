/**
 * Connects each `@Subscribe` handler of a hub to its bus subject. A payload is decoded once as
 * UTF-8 JSON, checked against the handler's declared parameter type (Date and Uint8Array fields
 * revived from ISO 8601 and base64) and handed to the handler; a payload that is not JSON, does
 * not fit the type, or that the handler refuses, is dropped, counted and logged (truncated), and
 * the next message is delivered as usual. Type mismatches are also counted per subscribed
 * subject, so an operator can tell which publisher sends the wrong shape.
 */
import type { Bus, BusMessage, BusSubscription } from '../bus/bus.js'
import { isImError, messageOf } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { HubDescriptor, SubscriptionDescriptor } from './hub-descriptor.js'
import type { HubInstances } from './hub-instances.js'
import type { SubscriptionContext } from './hub.js'

export interface SubscriptionOptions {
  readonly descriptor: HubDescriptor
  readonly instances: HubInstances
  readonly bus: Bus
  readonly logger: Logger
  readonly metrics: Metrics
  /** Payloads larger than this are dropped (bytes). */
  readonly maxServicePayloadSize: number
}

const decoder = new TextDecoder('utf-8', { fatal: true })
const PREVIEW = 200

export function startSubscriptions(options: SubscriptionOptions): BusSubscription[] {
  const { descriptor, bus } = options
  return descriptor.subscriptions.map((subscription) =>
    bus.subscribe(
      subscription.subject,
      (message) => deliver(options, subscription, message),
      subscription.queue ? { queue: subscription.queue } : undefined,
    ),
  )
}

/** Returns the handler's promise, if any, so that a message from a stream is acknowledged once it ran. */
function deliver(options: SubscriptionOptions, subscription: SubscriptionDescriptor, message: BusMessage): Promise<void> | void {
  const drop = (reason: string, cause?: unknown): void => {
    options.metrics.inc('bus_payloads_dropped')
    options.logger.warn(`dropped a message on ${message.subject}: ${reason}`, {
      hub: options.descriptor.name,
      payload: preview(message.data),
      ...(cause !== undefined && !isImError(cause) ? { error: cause } : {}),
    })
  }
  if (message.data.byteLength > options.maxServicePayloadSize) {
    return drop(`payload of ${message.data.byteLength} bytes is over the limit of ${options.maxServicePayloadSize}`)
  }
  let payload: unknown
  try {
    payload = JSON.parse(decoder.decode(message.data))
  } catch {
    return drop('payload is not UTF-8 JSON')
  }
  const bound = subscription.bind?.(payload)
  if (bound?.failure) {
    const { path, message: problem } = bound.failure
    options.metrics.inc(`bus_payloads_invalid{subject="${subscription.subject}"}`)
    return drop(`payload does not match the type of ${subscription.propertyKey}: ${path === '' ? 'the payload' : `'${path}'`} ${problem}`)
  }
  const hub = options.instances.forSubscriptions() as unknown as Record<string, (p: unknown, c: SubscriptionContext) => unknown>
  const context: SubscriptionContext = { subject: message.subject, headers: message.headers, ...(message.sequence !== undefined ? { sequence: message.sequence } : {}) }
  try {
    const result = hub[subscription.propertyKey]!(bound ? bound.value : payload, context)
    options.metrics.inc('bus_messages_handled')
    if (result instanceof Promise) return result.then(() => undefined, (error: unknown) => drop(messageOf(error), error))
  } catch (error) {
    drop(messageOf(error), error)
  }
}


function preview(data: Uint8Array): string {
  const text = Buffer.from(data.buffer, data.byteOffset, Math.min(data.byteLength, PREVIEW)).toString('utf8')
  return data.byteLength > PREVIEW ? `${text}... (${data.byteLength} bytes)` : text
}
