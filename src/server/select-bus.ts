/**
 * Chooses the bus at start-up. An explicitly configured NATS is used and retried forever, never
 * replaced. With no NATS configured we try the default URL once; when nothing answers there, the
 * node runs on the embedded single-node bus and says so, so that a first `npm start` just works.
 */
import type { Bus } from '../bus/bus.js'
import { createEmbeddedBus } from '../bus/embedded-bus.js'
import { createNatsBus } from '../bus/nats-bus.js'
import type { NatsJetStreamOptions } from '../bus/nats-bus.js'
import { readNatsCredentials } from '../bus/nats-credentials.js'
import type { JetStreamConfig, NatsConfig } from '../config/config.js'
import { isImError } from '../errors.js'
import type { Logger } from '../logger.js'

export async function selectBus(nats: NatsConfig, nodeId: string, logger: Logger, jetstream?: JetStreamConfig): Promise<Bus> {
  // Read before any attempt: a missing file is a configuration error, not an unreachable NATS.
  const { authenticator, tls } = readNatsCredentials(nats)
  const common = {
    authenticator,
    tlsMaterial: tls,
    servers: nats.url,
    name: `imservice-${nodeId}`,
    token: nats.token,
    user: nats.user,
    pass: nats.pass,
    reconnectWaitMs: nats.reconnectWaitMs,
    logger,
    jetstream: natsJetStream(jetstream, nodeId),
  }
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

/** One durable consumer per node, named after it: a node restarted with the same id resumes. */
function natsJetStream(config: JetStreamConfig | undefined, nodeId: string): NatsJetStreamOptions | undefined {
  if (!config) return undefined
  const { stream, subjects, duplicateWindowMs, maxAgeMs, consumerInactiveMs, publishTimeoutMs, replicas, pullExpiresMs, heartbeatMs } = config
  return {
    publishTimeoutMs,
    ...(stream !== undefined
      ? {
          feed: { stream, subjects, consumer: `im-${nodeId}`, duplicateWindowMs, maxAgeMs, inactiveThresholdMs: consumerInactiveMs, replicas, pullExpiresMs, heartbeatMs },
        }
      : {}),
  }
}
