/**
 * What `im generate` writes under `hubs.envelopeCasing: 'pascal'` against what a node configured
 * so actually publishes on a real nats-server: the AsyncAPI schemas accept the PascalCase
 * envelopes and lifecycle events (where the camelCase ones refuse them), and the generated
 * TypeScript subscribers hand them over typed, with the Dates among the arguments revived.
 */
import { readFileSync } from 'node:fs'
import type { Msg } from '@nats-io/transport-node'
import { Ajv } from 'ajv'
import { describe, expect, it, vi } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { parseModel, renderOutputs } from '../../src/codegen/outputs.js'
import { Forward, Hub, HubBase } from '../../src/index.js'
import { connectClient } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { natsFixture } from '../support/nats-fixture.js'
import { subscribeAssign, subscribeConnected } from '../unit/codegen/__snapshots__/tickets-publishers.pascal.snapshot.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const AT = '2024-01-02T03:04:05.678Z'

/** The hub the codegen golden files describe (test/fixtures/codegen/model.ts), as far as forwarding goes. */
@Hub({ name: 'tickets' })
class TicketsHub extends HubBase {
  @Forward('svc.tickets.assign')
  assign(ticketId: string, agent?: string, due?: Date): void {
    void ticketId
    void agent
    void due
  }
}

const fixture = natsFixture({ nodes: [{ hubs: [DefaultHub, TicketsHub], config: { hubs: { envelopeCasing: 'pascal' } } }] })

async function client(path: string): Promise<TestClient> {
  const connection = await connectClient(fixture.server.hubUrl(path))
  fixture.hold(connection)
  return connection
}

/** Collects the JSON bodies core NATS delivers on `subject`. */
async function listen(subject: string): Promise<unknown[]> {
  const bodies: unknown[] = []
  const subscription = fixture.service.nc.subscribe(subject, { callback: (_error, msg: Msg) => void bodies.push(msg.json()) })
  fixture.hold({ [Symbol.asyncDispose]: async () => subscription.unsubscribe() })
  await fixture.service.nc.flush()
  return bodies
}

/** A validator of one message payload of an AsyncAPI document, `$ref`s into its components resolved. */
function payloadValidator(asyncApi: string, message: string): (body: unknown) => boolean {
  const ajv = new Ajv({ strict: false })
  ajv.addSchema(JSON.parse(asyncApi) as object, 'asyncapi')
  const validate = ajv.getSchema(`asyncapi#/components/messages/${message.replaceAll('~', '~0').replaceAll('/', '~1')}/payload`)
  if (!validate) expect.fail(`no payload for ${message}`)
  return (body) => validate(body) as boolean
}

describe("im generate under hubs.envelopeCasing: 'pascal', against a node configured so", () => {
  it("describes the envelopes and lifecycle events of this repository's hubs as the node publishes them", async () => {
    const model = parseModel(readFileSync('generated/hub-model.json', 'utf8'))
    const pascal = renderOutputs(model, { envelopeCasing: 'pascal' }).get('asyncapi.json')!
    const camel = renderOutputs(model).get('asyncapi.json')!
    const received = await listen('im.default.receive.orders.>')
    const connected = await listen('im.default.connected')
    const connection = await client('/signalr-hubs/default')
    await connection.invoke('publish', 'orders.created', { orderId: 7 })
    await vi.waitFor(() => expect(received).toHaveLength(1), WAIT)
    await vi.waitFor(() => expect(connected.length).toBeGreaterThan(0), WAIT)
    expect(received[0]).toMatchObject({ Method: 'publish', Topic: 'orders.created', Args: [{ orderId: 7 }] })
    expect(payloadValidator(pascal, 'default.receive')(received[0])).toBe(true)
    expect(payloadValidator(pascal, 'default.connected')(connected[0])).toBe(true)
    expect(payloadValidator(camel, 'default.receive')(received[0])).toBe(false)
    expect(payloadValidator(camel, 'default.connected')(connected[0])).toBe(false)
  })

  it('hands them to the generated subscribers typed, with the arguments revived', async () => {
    const nc = fixture.service.nc
    const forwarded: Parameters<Parameters<typeof subscribeAssign>[1]>[0][] = []
    const events: Parameters<Parameters<typeof subscribeConnected>[1]>[0][] = []
    const failures: unknown[] = []
    const onError = (error: unknown): void => void failures.push(error)
    const subscriptions = [subscribeAssign(nc, (m) => void forwarded.push(m), { onError }), subscribeConnected(nc, (m) => void events.push(m), { onError })]
    fixture.hold({ [Symbol.asyncDispose]: async () => subscriptions.forEach((s) => s.unsubscribe()) })
    await nc.flush()
    const connection = await client('/signalr-hubs/tickets')
    await connection.invoke('assign', 'T-1', 'ann', AT)
    await vi.waitFor(() => expect(forwarded).toHaveLength(1), WAIT)
    await vi.waitFor(() => expect(events).toHaveLength(1), WAIT)
    expect(forwarded[0]!.Method).toBe('assign')
    expect(forwarded[0]!.Args).toEqual(['T-1', 'ann', new Date(AT)])
    expect(forwarded[0]!.Hub).toBe('tickets')
    expect(events[0]!.ConnectionId).toBe(connection.connectionId)
    expect(failures).toEqual([])
  })
})
