/**
 * A hub's client interface (`HubBase<ChatClient>`): every target kind offers its methods, checked
 * by the compiler (the @ts-expect-error lines fail `npm run typecheck` if a wrong call compiles),
 * and at run time each method sends its name and arguments like `send` does.
 */
import { describe, expect, it } from 'vitest'
import { createHubClients } from '../../../src/hub/clients.js'
import type { ClientInvoker, InvokeOptions } from '../../../src/hub/clients.js'
import type { HubClients, SingleClientProxy } from '../../../src/hub/client-types.js'
import { HubBase } from '../../../src/hub/hub.js'
import type { Delivery, DeliveryTarget } from '../../../src/lifetime/delivery.js'

interface ChatMessage { room: string; text: string }

interface ChatClient {
  /** A name the proxy uses for itself internally would be an easy clash. */
  sendArgs(n: number): void
  message(m: ChatMessage): void
  typing(user: string, on: boolean): void
  confirm(question: string): Promise<boolean>
  location(): { lat: number; lng: number }
}

class ChatHub extends HubBase<ChatClient> {
  /** Never run: the compiler checks these calls. */
  compileOnly(m: ChatMessage): void {
    void this.clients.group(m.room).message(m)
    void this.clients.all.typing('ann', true)
    void this.clients.caller.message(m)
    void this.clients.client('c').send('anything', 1, 2)
    const yes: Promise<boolean> = this.clients.client('c').invoke('confirm', 'sure?')
    const where: Promise<{ lat: number; lng: number }> = this.clients.caller.invoke('location')
    void yes
    void where
    // @ts-expect-error: no such client method
    void this.clients.group(m.room).mesage(m)
    // @ts-expect-error: wrong argument type
    void this.clients.all.typing('ann', 'yes')
    // @ts-expect-error: missing argument
    void this.clients.others.message()
    // @ts-expect-error: invoke only on one connection (as in ASP.NET Core)
    void this.clients.user('ann').invoke('confirm', 'sure?')
    // @ts-expect-error: invoke checks names too
    void this.clients.caller.invoke('confrim', 'sure?')
    // @ts-expect-error: and arguments
    void this.clients.caller.invoke('confirm', 42)
    // @ts-expect-error: a typed result is not any
    const wrong: Promise<string> = this.clients.caller.invoke('confirm', 'x')
    void wrong
  }
}

class UntypedHub extends HubBase {
  compileOnly(): void {
    void this.clients.all.send('whatever', 1)
    const answer: Promise<unknown> = this.clients.caller.invoke('anything', 1, 'two')
    void answer
    // @ts-expect-error: a hub without a client interface has no typed methods
    void this.clients.all.message({})
  }
}
void ChatHub
void UntypedHub

function recordingDelivery() {
  const sends: Array<{ target: DeliveryTarget; method: string; args: readonly unknown[] }> = []
  const delivery: Delivery = {
    send: async (target, method, args) => void sends.push({ target, method, args }),
    changeGroup: async () => {},
  }
  return { delivery, sends }
}

const typed = (delivery: Delivery, invoker?: ClientInvoker): HubClients<ChatClient> => createHubClients(delivery, 'me', invoker) as unknown as HubClients<ChatClient>

describe('typed client proxies', () => {
  const m: ChatMessage = { room: 'r', text: 'hi' }
  const cases: Array<[string, (c: HubClients<ChatClient>) => Promise<void>, DeliveryTarget]> = [
    ['all', (c) => c.all.message(m), { kind: 'all' }],
    ['allExcept', (c) => c.allExcept(['x']).message(m), { kind: 'all', except: ['x'] }],
    ['client', (c) => c.client('x').message(m), { kind: 'connections', ids: ['x'] }],
    ['clients', (c) => c.clients(['x', 'y']).message(m), { kind: 'connections', ids: ['x', 'y'] }],
    ['user', (c) => c.user('ann').message(m), { kind: 'users', ids: ['ann'] }],
    ['users', (c) => c.users(['ann', 'bob']).message(m), { kind: 'users', ids: ['ann', 'bob'] }],
    ['group', (c) => c.group('r').message(m), { kind: 'groups', names: ['r'] }],
    ['groups', (c) => c.groups(['r', 's'], ['x']).message(m), { kind: 'groups', names: ['r', 's'], except: ['x'] }],
    ['groupExcept', (c) => c.groupExcept('r', ['x']).message(m), { kind: 'groups', names: ['r'], except: ['x'] }],
    ['caller', (c) => c.caller.message(m), { kind: 'connections', ids: ['me'] }],
    ['others', (c) => c.others.message(m), { kind: 'all', except: ['me'] }],
    ['othersInGroup', (c) => c.othersInGroup('r').message(m), { kind: 'groups', names: ['r'], except: ['me'] }],
  ]

  it.each(cases)('%s: a client interface method sends its name and arguments', async (_, call, target) => {
    const { delivery, sends } = recordingDelivery()
    await call(typed(delivery))
    expect(sends).toEqual([{ target, method: 'message', args: [m] }])
  })

  it('sends any name, even one that reads like the machinery', async () => {
    const { delivery, sends } = recordingDelivery()
    await typed(delivery).all.sendArgs(7)
    expect(sends).toEqual([{ target: { kind: 'all' }, method: 'sendArgs', args: [7] }])
  })

  it('keeps the shaping of withDelivery and the arguments of every method', async () => {
    const { delivery, sends } = recordingDelivery()
    const clients = typed(delivery)
    await clients.group('r').withDelivery({ spreadMs: 100 }).typing('ann', false)
    await clients.all.typing('bob', true)
    expect(sends.map((s) => [s.method, s.args])).toEqual([['typing', ['ann', false]], ['typing', ['bob', true]]])
  })

  it('never sends for what runtimes probe on any object (await, JSON.stringify, Object members)', async () => {
    const { delivery, sends } = recordingDelivery()
    const proxy = typed(delivery).all
    expect(await Promise.resolve(proxy)).toBe(proxy)
    expect(JSON.stringify(proxy)).toBe('{}')
    expect(String(proxy)).toBe('[object Object]')
    expect(Object.prototype.hasOwnProperty.call(proxy, 'message')).toBe(false)
    expect(sends).toEqual([])
  })

  it('invoke asks the invoker for one connection, with the options given', async () => {
    const asked: Array<[string, string, readonly unknown[], InvokeOptions]> = []
    const invoker: ClientInvoker = { invoke: async (id, method, args, options) => (asked.push([id, method, args, options]), true) }
    const clients = typed(recordingDelivery().delivery, invoker)
    expect(await clients.client('x').invoke('confirm', 'sure?')).toBe(true)
    const signal = new AbortController().signal
    const proxy: SingleClientProxy<ChatClient> = clients.caller.withInvokeOptions({ timeoutMs: 50 }).withInvokeOptions({ signal })
    await proxy.invoke('location')
    expect(asked).toEqual([
      ['x', 'confirm', ['sure?'], {}],
      ['me', 'location', [], { timeoutMs: 50, signal }],
    ])
  })
})
