/**
 * The generated client's handling of dates and bytes, run from the golden file itself
 * (__snapshots__/tickets-client.snapshot.ts) with the official client's protocols: over JSON the
 * proxy revives ISO 8601 and base64 strings and sends bytes as base64; over MessagePack values
 * arrive typed and bytes still go out as bin. The live round trip is in codegen-e2e.test.ts.
 */
import { JsonHubProtocol } from '@microsoft/signalr'
import type { HubConnection, IStreamResult, IStreamSubscriber } from '@microsoft/signalr'
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack'
import { describe, expect, it } from 'vitest'
import { messagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'
import { ticketsHubProxy } from './__snapshots__/tickets-client.snapshot.js'
import type { Ticket } from './__snapshots__/tickets-client.snapshot.js'

const AT = '2024-01-02T03:04:05.678Z'
/** A Ticket as the official JSON protocol hands it over: dates and bytes as strings. */
const ticketJson = (): unknown => JSON.parse(`{"id":"T-1","severity":1,"state":"open","labels":{},"history":[{"at":"${AT}","note":"n"}],"thumbnail":"AAEC+v8="}`)

/** The connection surface the proxy calls, answering with what the protocol would deliver. */
function fakeConnection(answer: unknown) {
  const sent: unknown[][] = []
  const handlers = new Map<string, (...args: unknown[]) => void>()
  const connection = {
    invoke: (_method: string, ...args: unknown[]) => (sent.push(args), Promise.resolve(answer)),
    send: (_method: string, ...args: unknown[]) => (sent.push(args), Promise.resolve()),
    stream: (_method: string, ...args: unknown[]): IStreamResult<unknown> => {
      sent.push(args)
      return { subscribe: (subscriber: IStreamSubscriber<unknown>) => (subscriber.next(answer), subscriber.complete(), { dispose: () => {} }) }
    },
    on: (method: string, handler: (...args: unknown[]) => void) => void handlers.set(method, handler),
    off: (method: string, handler?: (...args: unknown[]) => void) => void (handlers.get(method) === handler && handlers.delete(method)),
  }
  return { proxy: ticketsHubProxy(connection as unknown as HubConnection), sent, handlers }
}

describe('the generated client over JSON', () => {
  it('revives a result: Dates and Uint8Arrays where the model has them', async () => {
    const ticket: Ticket = await fakeConnection(ticketJson()).proxy.invoke('assign', 'T-1')
    expect(ticket.history[0]!.at).toEqual(new Date(AT))
    expect(ticket.thumbnail).toEqual(Uint8Array.of(0, 1, 2, 250, 255))
    expect(ticket.id).toBe('T-1')
  })

  it('revives stream items, through a generic type', async () => {
    const { proxy } = fakeConnection({ version: 2, value: ticketJson() })
    const item = await new Promise((resolve) => proxy.stream('follow', 'T-1').subscribe({ next: resolve, error: () => {}, complete: () => {} }))
    expect(item).toMatchObject({ version: 2, value: { history: [{ at: new Date(AT) }] } })
  })

  it('revives client method arguments, and off() removes the handler on() registered', () => {
    const { proxy, handlers } = fakeConnection(undefined)
    const received: unknown[][] = []
    const handler = (...args: unknown[]): void => void received.push(args)
    proxy.on('ticketChanged', handler)
    handlers.get('ticketChanged')!(ticketJson(), AT)
    expect(received[0]![1]).toEqual(new Date(AT))
    expect((received[0]![0] as Ticket).thumbnail).toBeInstanceOf(Uint8Array)
    proxy.off('ticketChanged', handler)
    expect(handlers.size).toBe(0)
  })

  it('sends bytes as base64 in JSON, leaving the caller\'s value as it was', async () => {
    const { proxy, sent } = fakeConnection(3)
    const file = Uint8Array.of(0, 1, 2, 250, 255)
    await proxy.invoke('attach', 'T-1', file)
    const wire = new JsonHubProtocol().writeMessage({ type: 1, target: 'attach', arguments: sent[0]!, invocationId: '0', streamIds: [] })
    expect(wire).toContain('"arguments":["T-1","AAEC+v8="]')
    expect(file).toEqual(Uint8Array.of(0, 1, 2, 250, 255))
  })

  it('still sends bytes as bin over MessagePack, which the server reads as a Uint8Array', async () => {
    const { proxy, sent } = fakeConnection(3)
    await proxy.send('attach', 'T-1', Uint8Array.of(7, 8))
    const frame = new MessagePackHubProtocol().writeMessage({ type: 1, target: 'attach', arguments: sent[0]!, streamIds: [] })
    const { messages } = messagePackHubProtocol.parseMessages(new Uint8Array(frame))
    expect(messages[0]).toMatchObject({ arguments: ['T-1', Uint8Array.of(7, 8)] })
  })

  it('leaves values that arrive typed (MessagePack) as they are', async () => {
    const at = new Date(AT)
    const thumbnail = Uint8Array.of(1)
    const ticket: Ticket = await fakeConnection({ id: 'T-1', severity: 1, state: 'open', labels: {}, history: [{ at, note: 'n' }], thumbnail }).proxy.invoke('assign', 'T-1')
    expect(ticket.history[0]!.at).toBe(at)
    expect(ticket.thumbnail).toBe(thumbnail)
  })
})
