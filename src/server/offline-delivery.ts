/**
 * Offline delivery on one node: which of its hubs it serves, and the wiring of one keeper for the
 * node with one gate per served hub's connections (docs/reliability.md, "Offline delivery").
 *
 * A hub is served when it delivers `im.<hub>.send.user` itself (a `@Subscribe` handler covering
 * it: the DefaultHub's `sendToUsers`, or a custom hub's handler reading the same payload) and the
 * capturing stream's subjects (`jetstream.subjects`) hold that subject. Any other hub is left out
 * with a log line rather than refused: the default subjects capture only the DefaultHub's, so a
 * node serving a custom hub beside it would otherwise stop starting when offline delivery is
 * turned on, for a hub that may not want it. A node with no hub to serve refuses to start
 * (`refuseWithoutOfflineHubs`, run by checkHubs).
 */
import type { Bus } from '../bus/bus.js'
import { createOfflineKeeper } from '../bus/offline-keeper.js'
import { subjectCovers, subjectMatches } from '../bus/subjects.js'
import type { JetStreamConfig } from '../config/config.js'
import { ImError, ImErrorCode } from '../errors.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import { durableRecipients, offlineGate } from '../hub/offline-source.js'
import type { Logger } from '../logger.js'

type HubShape = Pick<HubDescriptor, 'name' | 'subscriptions'>
type OfflineGate = ReturnType<typeof offlineGate>

export interface OfflineHubChoice {
  /** The hubs whose durable user messages are kept, in the order the node serves them. */
  readonly served: readonly string[]
  /** The others, each with why. */
  readonly left: ReadonlyArray<{ readonly hub: string; readonly reason: string }>
}

export interface OfflineDelivery {
  /** The gate of a served hub's connections; undefined for a hub left out. */
  gateOf(hub: string): OfflineGate | undefined
  /** For /metrics. */
  gauges(): Record<string, number>
  start(): void
  close(): Promise<void>
}

/** Which hubs offline delivery serves, given the hubs and the capturing stream's configured subjects. */
export function chooseOfflineHubs(descriptors: readonly HubShape[], jetstream: Pick<JetStreamConfig, 'subjects'>): OfflineHubChoice {
  const served: string[] = []
  const left: Array<{ hub: string; reason: string }> = []
  for (const { name, subscriptions } of descriptors) {
    const subject = `im.${name}.send.user`
    if (!subscriptions.some((subscription) => subjectMatches(subscription.subject, subject))) {
      left.push({ hub: name, reason: `it has no @Subscribe handler of ${subject}` })
    } else if (!jetstream.subjects.some((pattern) => subjectCovers(pattern, subject))) {
      left.push({ hub: name, reason: `jetstream.subjects (IM_JETSTREAM_SUBJECTS: ${jetstream.subjects.join(', ')}) do not hold ${subject}` })
    } else {
      served.push(name)
    }
  }
  return { served, left }
}

/** IM_CONFIG_INVALID when offline delivery is on and none of the hubs can have it, naming why for each. */
export function refuseWithoutOfflineHubs(descriptors: readonly HubShape[], jetstream: Pick<JetStreamConfig, 'subjects' | 'offline'>): void {
  if (!jetstream.offline.enabled) return
  const { served, left } = chooseOfflineHubs(descriptors, jetstream)
  if (served.length > 0) return
  const reasons = left.map(({ hub, reason }) => `hub ${hub}: ${reason}`).join('; ')
  throw new ImError(ImErrorCode.ConfigInvalid, `offline delivery (IM_OFFLINE_DELIVERY) has no hub to keep messages for (${reasons})`)
}

/** Offline delivery for the node's hubs, or undefined when it is off. Logs each hub left out. */
export function createOfflineDelivery(options: {
  readonly bus: Bus
  readonly jetstream: JetStreamConfig
  readonly descriptors: readonly HubShape[]
  readonly logger: Logger
  readonly maxServicePayloadSize: number
}): OfflineDelivery | undefined {
  const { bus, jetstream, descriptors, logger, maxServicePayloadSize } = options
  if (!jetstream.offline.enabled) return undefined
  const { served, left } = chooseOfflineHubs(descriptors, jetstream)
  const keeper = createOfflineKeeper(bus, jetstream, { hubs: served, logger, recipients: durableRecipients(maxServicePayloadSize) })
  if (!keeper) return undefined
  for (const { hub, reason } of left) logger.info(`offline delivery: hub ${hub} keeps nothing for offline users: ${reason}`)
  const gates = new Map(served.map((hub) => [hub, offlineGate(keeper, hub, logger, maxServicePayloadSize)]))
  return {
    gateOf: (hub) => gates.get(hub),
    gauges: () => ({
      offline_replays_running: [...gates.values()].reduce((total, gate) => total + gate.replaying, 0),
      offline_messages_sorted: keeper.sorted,
    }),
    start: () => keeper.start(),
    close: () => keeper.close(),
  }
}
