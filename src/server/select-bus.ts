/**
 * Chooses the bus at start-up. An explicitly configured NATS is used and retried forever, never
 * replaced. With no NATS configured we try the default URL once; when nothing answers there, the
 * node runs on the embedded single-node bus and says so, so that a first `npm start` just works.
 */
import type { Bus } from '../bus/bus.js'
import { createEmbeddedBus } from '../bus/embedded-bus.js'
import { createNatsBus } from '../bus/nats-bus.js'
import type { NatsConfig } from '../config/config.js'
import { isImError } from '../errors.js'
import type { Logger } from '../logger.js'

export async function selectBus(nats: NatsConfig, nodeId: string, logger: Logger): Promise<Bus> {
  const common = { servers: nats.url, name: `imservice-${nodeId}`, token: nats.token, user: nats.user, pass: nats.pass, logger }
  if (nats.explicit) return createNatsBus({ ...common, retryForever: true })
  try {
    return await createNatsBus({ ...common, retryForever: false })
  } catch (error) {
    if (!isImError(error)) throw error
    logger.warn(
      `No NATS answered at ${nats.url}; running on the embedded single-node bus. ` +
        'Services reach this node only through its HTTP publish endpoint. Set IM_NATS_URL to use NATS.',
    )
    return createEmbeddedBus({ logger })
  }
}
