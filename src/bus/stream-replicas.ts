/**
 * How many replicas a stream IMService creates gets. `auto` reads the cluster's size from the
 * server's INFO: `connect_urls` lists the client URLs of every server of the cluster that is up,
 * this one included (empty for a single server, and when the cluster hides them with
 * `no_advertise`). Three replicas survive the loss of any one server; more cost writes and buy
 * little, so auto never goes past 3.
 */
import type { NatsConnection } from '@nats-io/transport-node'

export interface ReplicaChoice {
  readonly replicas: number
  /** Why, for the log. */
  readonly why: string
}

export function chooseReplicas(nc: NatsConnection, setting: number | 'auto'): ReplicaChoice {
  if (setting !== 'auto') return { replicas: setting, why: 'set by IM_JETSTREAM_REPLICAS' }
  const servers = new Set(nc.info?.connect_urls ?? []).size
  if (servers >= 3) return { replicas: 3, why: `auto: the NATS cluster reports ${servers} servers` }
  return {
    replicas: 1,
    why:
      servers === 0
        ? 'auto: the NATS server reports no cluster (or hides its peers); set IM_JETSTREAM_REPLICAS for a cluster that does'
        : `auto: the NATS cluster reports ${servers} servers, fewer than 3`,
  }
}
