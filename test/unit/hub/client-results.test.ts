/**
 * ClientResults.invoke, hub code's ask, on this node's connections: every way it can end gives a
 * precise error, and nothing is left waiting after it ended. The connection is a stand-in that
 * records what it is sent; the bus is the real embedded one.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import type { HubConnection } from '../../../src/connection/hub-connection.js'
import { ImError, HubException } from '../../../src/errors.js'
import { ClientResults } from '../../../src/hub/client-results.js'
import { silentLogger } from '../../../src/logger.js'
import { MessageType } from '../../../src/protocol/messages.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

const TAG = 'node01'
const ID = `${TAG}connection`
const RELAY_MARGIN = 100

interface FakeConnection {
  connectionId: string
  isConnected: boolean
  sent: HubMessage[]
  send(message: HubMessage): void
}

function setup(options: { throwOnSend?: boolean } = {}) {
  const connection: FakeConnection = {
    connectionId: ID,
    isConnected: true,
    sent: [],
    send(message) {
      if (options.throwOnSend) throw new TypeError('Do not know how to serialize a BigInt')
      this.sent.push(message)
    },
  }
  const bus = new EmbeddedBus()
  const results = new ClientResults({
    bus,
    subject: 'im.test.invoke.client',
    nodeTag: TAG,
    find: (id) => (id === ID ? (connection as unknown as HubConnection) : undefined),
    handedOver: () => false,
    clientResultTimeoutMs: 1000,
    maxTimeoutMs: 300_000,
    relayMarginMs: RELAY_MARGIN,
    logger: silentLogger,
  })
  results.start()
  const lastId = (): string => (connection.sent.at(-1) as { invocationId: string }).invocationId
  const answer = (result: unknown): boolean =>
    results.complete(connection as unknown as HubConnection, { type: MessageType.Completion, invocationId: lastId(), result })
  return { connection, results, answer, bus }
}

const buses: EmbeddedBus[] = []
afterEach(async () => {
  for (const bus of buses.splice(0)) await bus.close()
})

describe('ClientResults.invoke', () => {
  it("sends an Invocation with a server id and resolves with the client's result", async () => {
    const { connection, results, answer, bus } = setup()
    buses.push(bus)
    const asked = results.invoke(ID, 'confirm', ['sure?'], {})
    expect(connection.sent).toEqual([{ type: MessageType.Invocation, invocationId: 's1', target: 'confirm', arguments: ['sure?'] }])
    expect(answer(true)).toBe(true)
    await expect(asked).resolves.toBe(true)
    expect(results.waiting).toBe(0)
  })

  it('rejects with the reason of an aborted signal, forgets the ask and ignores the late answer', async () => {
    const { results, answer, bus } = setup()
    buses.push(bus)
    const controller = new AbortController()
    const asked = results.invoke(ID, 'confirm', [], { signal: controller.signal })
    controller.abort(new Error('caller left'))
    await expect(asked).rejects.toThrow('caller left')
    expect(results.waiting).toBe(0)
    expect(answer(true)).toBe(false)
    await expect(results.invoke(ID, 'confirm', [], { signal: controller.signal })).rejects.toThrow('caller left')
  })

  it('rejects a client error as a HubException with its text', async () => {
    const { connection, results, bus } = setup()
    buses.push(bus)
    const asked = results.invoke(ID, 'confirm', [], {})
    const invocationId = (connection.sent[0] as { invocationId: string }).invocationId
    results.complete(connection as unknown as HubConnection, { type: MessageType.Completion, invocationId, error: 'Error: nope' })
    const error = await asked.catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HubException)
    expect(error).toMatchObject({ code: 'IM_HUB_EXCEPTION', message: 'Error: nope' })
  })

  it.each([
    [{ timeoutMs: 0 }, 'confirm', 'invoke: timeoutMs must be an integer from 1 to 300000, not 0'],
    [{ timeoutMs: 1.5 }, 'confirm', 'invoke: timeoutMs must be an integer from 1 to 300000, not 1.5'],
    [{}, 'bad name', 'invoke: "method" must start with a letter'],
  ])('refuses %j / %j before sending anything', async (options, method, message) => {
    const { connection, results, bus } = setup()
    buses.push(bus)
    await expect(results.invoke(ID, method, [], options)).rejects.toMatchObject({ code: 'IM_INVALID_PAYLOAD', message: expect.stringContaining(message) })
    expect(connection.sent).toEqual([])
  })

  it('refuses arguments the protocol cannot write, and keeps nothing waiting', async () => {
    const { results, bus } = setup({ throwOnSend: true })
    buses.push(bus)
    await expect(results.invoke(ID, 'confirm', [1n], {})).rejects.toMatchObject({
      code: 'IM_INVALID_PAYLOAD',
      message: "invoke 'confirm': The arguments could not be serialized: Do not know how to serialize a BigInt",
    })
    expect(results.waiting).toBe(0)
  })

  it('says a closed connection is not connected without sending', async () => {
    const { connection, results, bus } = setup()
    buses.push(bus)
    connection.isConnected = false
    const error = await results.invoke(ID, 'confirm', [], {}).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ImError)
    expect(error).toMatchObject({ code: 'IM_CLIENT_NOT_CONNECTED', message: `Connection '${ID}' is not connected.` })
    expect(connection.sent).toEqual([])
  })

  it('times out with the connection, the method and the time in the message', async () => {
    const { results, bus } = setup()
    buses.push(bus)
    await expect(results.invoke(ID, 'confirm', [], { timeoutMs: 20 })).rejects.toMatchObject({
      code: 'IM_CLIENT_RESULT_TIMEOUT',
      message: `Connection '${ID}' did not answer 'confirm' within 20 ms.`,
    })
    expect(results.waiting).toBe(0)
  })

  it('asks another node through the bus for a connection it does not hold; its own tag answers "not connected"', async () => {
    const { results, bus } = setup()
    buses.push(bus)
    await expect(results.invoke(`${TAG}gone`, 'confirm', [], {})).rejects.toMatchObject({ code: 'IM_CLIENT_NOT_CONNECTED', message: `Connection '${TAG}gone' is not connected.` })
  })

  it("waits for a node that does not answer the client's time plus the relay margin (hubs.relayMarginMs), then says it timed out", async () => {
    const { results, bus } = setup()
    buses.push(bus)
    const asked: number[] = []
    const request = bus.request.bind(bus)
    bus.request = (subject, data, timeoutMs) => {
      asked.push(timeoutMs)
      return request(subject, data, timeoutMs)
    }
    await expect(results.invoke('other-node-connection', 'confirm', [], { timeoutMs: 50 })).rejects.toMatchObject({ code: 'IM_BUS_TIMEOUT' })
    expect(asked).toEqual([50 + RELAY_MARGIN])
  })
})
