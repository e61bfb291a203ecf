/**
 * The generated NATS subscribers run from the golden files themselves, fed the bodies IMService
 * writes: the node's envelope as is under `hubs.envelopeCasing: 'camel'`, and through the node's
 * own PascalCase conversion under `pascal`. The live round trip is in
 * test/integration/envelope-casing-codegen.test.ts.
 */
import type { Msg, NatsConnection, Subscription, SubscriptionOptions } from '@nats-io/transport-node'
import { describe, expect, it } from 'vitest'
import { pascalKeys } from '../../../src/hub/cap-headers.js'
import type { InvocationEnvelope, LifecycleEvent } from '../../../src/hub/envelope.js'
import * as camel from './__snapshots__/tickets-publishers.snapshot.js'
import * as pascal from './__snapshots__/tickets-publishers.pascal.snapshot.js'

const AT = '2024-01-02T03:04:05.678Z'
const envelope: InvocationEnvelope = { hub: 'tickets', method: 'assign', args: ['T-1', 'ann', AT], connectionId: 'c-1', userId: null, node: 'n-1', timestamp: AT }
const lifecycle: LifecycleEvent = { connectionId: 'c-1', userId: 'u-1', transport: 'WebSockets', node: 'n-1', timestamp: AT }

/** A NatsConnection that hands `body` (as JSON on the wire) to the one subscription made on it. */
function delivering(body: object): NatsConnection {
  const subscribe = (subject: string, options?: SubscriptionOptions): Subscription => {
    const data = JSON.stringify(body)
    options?.callback?.(null, { subject, data: new TextEncoder().encode(data), json: () => JSON.parse(data) } as unknown as Msg)
    return {} as Subscription
  }
  return { subscribe } as unknown as NatsConnection
}

/** What the handler of a subscriber got, failing on an error the subscriber reported. */
function received<T>(subscribe: (nc: NatsConnection, handler: (message: T) => void, options: { onError: (error: unknown) => void }) => unknown, body: object): T {
  let message: T | undefined
  subscribe(delivering(body), (m) => void (message = m), { onError: (error) => expect.fail(String(error)) })
  return message ?? expect.fail('the handler was not called')
}

describe('the generated subscribers', () => {
  it("read a PascalCase envelope under hubs.envelopeCasing: 'pascal': Method, Args, and the Date among the arguments revived", () => {
    const message = received(pascal.subscribeAssign, pascalKeys(envelope))
    expect(message.Method).toBe('assign')
    expect(message.Args).toEqual(['T-1', 'ann', new Date(AT)])
    expect(message.UserId).toBeNull()
  })

  it("read a PascalCase lifecycle event under hubs.envelopeCasing: 'pascal'", () => {
    const message = received(pascal.subscribeConnected, pascalKeys(lifecycle))
    expect(message.ConnectionId).toBe('c-1')
  })

  it('read the camelCase envelope by default', () => {
    const message = received(camel.subscribeAssign, envelope)
    expect(message.method).toBe('assign')
    expect(message.args).toEqual(['T-1', 'ann', new Date(AT)])
  })
})
