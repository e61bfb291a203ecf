import { describe, expect, it } from 'vitest'
import type { Bus } from '../../../src/bus/bus.js'
import { OpeningRequest } from '../../../src/connection/opening-request.js'
import { Hub } from '../../../src/hub/decorators.js'
import { describeHub } from '../../../src/hub/hub-descriptor.js'
import { HubBase } from '../../../src/hub/hub.js'
import type { HubCallerContext } from '../../../src/hub/hub.js'
import type { ClientInvoker } from '../../../src/hub/clients.js'
import { HubInstances } from '../../../src/hub/hub-instances.js'
import type { TopicAccess } from '../../../src/hub/topic-access.js'
import type { WatchStreams } from '../../../src/hub/watch-streams.js'
import type { Delivery } from '../../../src/lifetime/delivery.js'

@Hub()
class ReaderHub extends HubBase {}

/** What these tests never reach: the bus, delivery, client results, topics and watches. */
const unused = <T>(): T => ({}) as T

function instances(): HubInstances {
  return new HubInstances({
    descriptor: describeHub(ReaderHub, { pathPrefix: '/hubs' }),
    bus: unused<Bus>(),
    nodeId: 'n1',
    cluster: unused<Delivery>(),
    local: unused<Delivery>(),
    invoker: unused<ClientInvoker>(),
    topics: unused<TopicAccess>(),
    watches: unused<WatchStreams>(),
  })
}

describe('HubInstances.forCaller', () => {
  it("builds the caller's http snapshot only when hub code reads it, also for a call with an invocation id", () => {
    const request = OpeningRequest.capture({ cookie: 'a=1' }, '/hubs/reader', '?x=1', '127.0.0.1', 'WebSockets')
    let reads = 0
    const context: HubCallerContext = {
      connectionId: 'c1',
      userId: undefined,
      claims: {},
      transport: 'WebSockets',
      get http() {
        reads++
        return request.snapshot()
      },
      abort: () => {},
    }
    const hubs = instances()
    const scope = hubs.callerScope(context)
    const hub = hubs.forCaller(scope, new AbortController().signal, '7')
    expect(reads).toBe(0)
    expect(hub.context).toMatchObject({ connectionId: 'c1', invocationId: '7', transport: 'WebSockets' })
    expect(reads).toBe(0)
    expect(hub.context.http.cookies).toEqual({ a: '1' })
    expect(reads).toBe(1)
    // The connection's own context is untouched by the call's invocation id.
    expect(scope.context.invocationId).toBeUndefined()
  })
})
