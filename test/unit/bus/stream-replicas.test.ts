import type { NatsConnection } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { chooseReplicas } from '../../../src/bus/stream-replicas.js'

/** Only `info` is read: the INFO the server sent at connect. */
const connectedTo = (connectUrls?: string[]): NatsConnection => ({ info: connectUrls ? { connect_urls: connectUrls } : {} }) as unknown as NatsConnection

describe('replicas of a stream IMService creates', () => {
  it.each([
    [['a:4222', 'b:4222', 'c:4222'], 3, 'auto: the NATS cluster reports 3 servers'],
    [['a:4222', 'b:4222', 'c:4222', 'd:4222', 'e:4222'], 3, 'auto: the NATS cluster reports 5 servers'],
    [['a:4222', 'b:4222'], 1, 'auto: the NATS cluster reports 2 servers, fewer than 3'],
    [undefined, 1, 'auto: the NATS server reports no cluster (or hides its peers); set IM_JETSTREAM_REPLICAS for a cluster that does'],
  ])('auto with connect_urls %j: %i', (urls, replicas, why) => {
    expect(chooseReplicas(connectedTo(urls), 'auto')).toEqual({ replicas, why })
  })

  it('counts a server listed twice once', () => {
    expect(chooseReplicas(connectedTo(['a:4222', 'a:4222', 'b:4222']), 'auto').replicas).toBe(1)
  })

  it('takes a set count as it is', () => {
    expect(chooseReplicas(connectedTo(['a:4222', 'b:4222', 'c:4222']), 1)).toEqual({ replicas: 1, why: 'set by IM_JETSTREAM_REPLICAS' })
    expect(chooseReplicas(connectedTo(), 5)).toEqual({ replicas: 5, why: 'set by IM_JETSTREAM_REPLICAS' })
  })
})
