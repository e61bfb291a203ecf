/**
 * Client results: a service asks one connection a question with a NATS request to
 * `im.<hub>.invoke.client` and gets the client's answer, or a clear error, from whichever node
 * holds the connection.
 */
import { describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient } from '../support/clients.js'
import type { TestServer } from '../support/im-server.js'

const fixture = natsFixture({ nodes: ['results-a', 'results-b'].map((nodeId) => ({ hubs: [DefaultHub], config: { nodeId } })) })
const nodeA = (): TestServer => fixture.nodes[0]!
const nodeB = (): TestServer => fixture.nodes[1]!

async function ask(request: Record<string, unknown>): Promise<unknown> {
  const reply = await fixture.service.nc.request('im.default.invoke.client', JSON.stringify(request), { timeout: 5000 })
  return reply.json()
}

describe('im.default.invoke.client', () => {
  it("returns the client's answer, from whichever node holds the connection", async () => {
    for (const node of [nodeA(), nodeB()]) {
      await using c = await connectClient(node.hubUrl())
      c.on('confirm', (question: string, amount: number) => `${question}: ${amount * 2}`)
      expect(await ask({ connectionId: c.connectionId, method: 'confirm', args: ['double', 21] })).toEqual({ result: 'double: 42' })
    }
  })

  it('waits for an async handler and takes PascalCase fields', async () => {
    await using c = await connectClient(nodeB().hubUrl())
    c.on('slowAnswer', async () => {
      await new Promise((resolve) => setTimeout(resolve, 50))
      return { ok: true }
    })
    expect(await ask({ ConnectionId: c.connectionId, Method: 'slowAnswer' })).toEqual({ result: { ok: true } })
  })

  it('reports a client that threw, or that has no handler', async () => {
    await using c = await connectClient(nodeA().hubUrl())
    c.on('explode', () => {
      throw new Error('from callback')
    })
    expect(await ask({ connectionId: c.connectionId, method: 'explode' })).toEqual({ error: 'Error: from callback', code: 'client_error' })
    expect(await ask({ connectionId: c.connectionId, method: 'unhandled' })).toEqual({ error: "Client didn't provide a result.", code: 'client_error' })
  })

  it('reports a client that does not answer in time', async () => {
    await using c = await connectClient(nodeA().hubUrl())
    c.on('never', () => new Promise(() => {}))
    expect(await ask({ connectionId: c.connectionId, method: 'never', timeoutMs: 200 })).toEqual({
      error: 'The client did not answer within 200 ms.',
      code: 'timeout',
    })
  })

  it('reports a connection that is gone, and one that disconnects while asked', async () => {
    const c = await connectClient(nodeB().hubUrl())
    const id = c.connectionId!
    let asked!: () => void
    const wasAsked = new Promise<void>((resolve) => (asked = resolve))
    c.on('hang', () => {
      asked()
      return new Promise(() => {})
    })
    const pending = ask({ connectionId: id, method: 'hang' })
    await wasAsked
    await c.stop()
    expect(await pending).toEqual({ error: `Connection '${id}' disconnected.`, code: 'not_connected' })
    expect(await ask({ connectionId: id, method: 'hang' })).toEqual({ error: `Connection '${id}' is not connected.`, code: 'not_connected' })
  })

  it('refuses a malformed request with the reason', async () => {
    expect(await ask({ method: 'x' })).toEqual({ error: 'Invalid request: "connectionId" must be a non-empty string', code: 'invalid_request' })
    expect(await ask({ connectionId: 'abc', method: 'x', timeoutMs: 10_000_000 })).toEqual({
      error: 'Invalid request: "timeoutMs" must be a number from 1 to 300000',
      code: 'invalid_request',
    })
  })

  it.each(['a\r\nb', '<script>', 'x'.repeat(257)])('refuses a method name the client could not have registered: %j', async (method) => {
    const answer = await ask({ connectionId: 'abc', method })
    expect(answer).toMatchObject({ code: 'invalid_request' })
    expect((answer as { error: string }).error).toMatch(/^Invalid request: "method" must /)
  })
})
