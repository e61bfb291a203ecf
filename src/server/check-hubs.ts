/**
 * What start-up makes of the hub classes before it serves them: each hub's declared types read
 * from its source (through the contract cache) and its decorators validated into a descriptor.
 * `im serve --dry-run` runs only this, to check a deployment and fill the cache at build time.
 */
import type { ImConfig } from '../config/config.js'
import { describeHub } from '../hub/hub-descriptor.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import type { HubClass } from '../hub/hub.js'
import type { Logger } from '../logger.js'
import { bindHubs } from './hub-bindings.js'
import { refuseWithoutOfflineHubs } from './offline-delivery.js'

/**
 * Throws IM_HUB_DEFINITION_INVALID naming the class and member when a hub cannot work, and
 * IM_CONFIG_INVALID when offline delivery is on and no hub can have it (see offline-delivery.ts).
 */
export async function checkHubs(hubs: readonly HubClass[], config: Pick<ImConfig, 'hubs'> & Partial<Pick<ImConfig, 'jetstream'>>, logger: Logger): Promise<HubDescriptor[]> {
  const bindings = await bindHubs(hubs, logger)
  const descriptors = hubs.map((hub, i) => describeHub(hub, { pathPrefix: config.hubs.pathPrefix, transports: config.hubs.transports, bindings: bindings[i] }))
  if (config.jetstream) refuseWithoutOfflineHubs(descriptors, config.jetstream)
  return descriptors
}
