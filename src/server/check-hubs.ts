/**
 * What start-up makes of the hub classes before it serves them: each hub's declared types read
 * from its source (through the contract cache) and its decorators validated into a descriptor.
 * `im serve --dry-run` runs only this, to check a deployment and fill the cache at build time.
 */
import { OFFLINE_HUB } from '../bus/offline-keeper.js'
import type { ImConfig } from '../config/config.js'
import { ImError, ImErrorCode } from '../errors.js'
import { describeHub } from '../hub/hub-descriptor.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import type { HubClass } from '../hub/hub.js'
import type { Logger } from '../logger.js'
import { bindHubs } from './hub-bindings.js'

/**
 * Throws IM_HUB_DEFINITION_INVALID naming the class and member when a hub cannot work, and
 * IM_CONFIG_INVALID when offline delivery is on without the DefaultHub, whose messages it keeps.
 */
export async function checkHubs(hubs: readonly HubClass[], config: Pick<ImConfig, 'hubs'> & Partial<Pick<ImConfig, 'jetstream'>>, logger: Logger): Promise<HubDescriptor[]> {
  const bindings = await bindHubs(hubs, logger)
  const descriptors = hubs.map((hub, i) => describeHub(hub, { pathPrefix: config.hubs.pathPrefix, transports: config.hubs.transports, bindings: bindings[i] }))
  if (config.jetstream?.offline.enabled && !descriptors.some((d) => d.name === OFFLINE_HUB)) {
    throw new ImError(ImErrorCode.ConfigInvalid, `offline delivery (IM_OFFLINE_DELIVERY) keeps messages of im.${OFFLINE_HUB}.send.user for the DefaultHub, which this node does not serve`)
  }
  return descriptors
}
