/**
 * Streams in both directions (HubProtocol.md, Streaming), as the official client uses them:
 * `connection.stream()` with items, completion, errors and cancellation; a Subject passed to
 * `invoke()` as a client stream; and DefaultHub's publishStream and watch.
 */
import * as signalR from '@microsoft/signalr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { natsFixture } from '../support/nats-fixture.js'
import { connectClient, Inbox, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'

const fixture = natsFixture({ nodes: [{ hubs: [DefaultHub, EchoHub] }] })

interface StreamOutcome {
  items: unknown[]
  error?: string
}

/** Reads a whole server stream. */
function collect(stream: signalR.IStreamResult<unknown>): Promise<StreamOutcome> {
  return withTimeout(
    new Promise((resolve) => {
      const items: unknown[] = []
      stream.subscribe({
        next: (item) => items.push(item),
        complete: () => resolve({ items }),
        error: (error) => resolve({ items, error: error.message }),
      })
    }),
    5000,
    'the stream to end',
  )
}

describe.each([
  ['WebSockets', signalR.HttpTransportType.WebSockets],
  ['ServerSentEvents', signalR.HttpTransportType.ServerSentEvents],
  ['LongPolling', signalR.HttpTransportType.LongPolling],
])('server-to-client streams over %s', (_name, transport) => {
  let client: TestClient
  beforeAll(async () => {
    client = await connectClient(fixture.server.hubUrl('/hubs/echo'), { transport })
  })
  afterAll(async () => {
    await client?.stop()
  })

  it('yields every item, then completes', async () => {
    expect(await collect(client.stream('counter', 5))).toEqual({ items: [0, 1, 2, 3, 4] })
    expect(await collect(client.stream('empty'))).toEqual({ items: [] })
  })

  it('reports a failure after the items already sent', async () => {
    expect(await collect(client.stream('failAfter', 2, 'sensor lost'))).toEqual({
      items: [0, 1],
      error: 'An error occurred on the server while streaming results. HubException: sensor lost',
    })
    expect(await collect(client.stream('failAfter', 0, 'no start'))).toEqual({
      items: [],
      error: "An unexpected error occurred invoking 'failAfter' on the server. HubException: no start",
    })
  })

  it('ends the work on the server when the client disposes of the subscription', async () => {
    const canceled = new Inbox(client, 'streamCanceled')
    const subscription = client.stream('infinite').subscribe({ next: () => {}, complete: () => {}, error: () => {} })
    await client.invoke('echo', 'the stream has started')
    subscription.dispose()
    expect(await canceled.next()).toEqual([])
  })
})

describe('stream errors', () => {
  let client: TestClient
  beforeAll(async () => {
    client = await connectClient(fixture.server.hubUrl('/hubs/echo'))
  })
  afterAll(async () => {
    await client?.stop()
  })

  it('refuses invoke() of a streaming method and stream() of a plain one', async () => {
    await expect(client.invoke('counter', 1)).rejects.toThrow("The client attempted to invoke the streaming 'counter' method with a non-streaming invocation.")
    expect((await collect(client.stream('echo', 1))).error).toBe("The client attempted to invoke the non-streaming 'echo' method with a streaming invocation.")
  })

  it('refuses a streaming method that returns no stream', async () => {
    expect((await collect(client.stream('notAStream'))).error).toBe(
      "The value returned by the streaming method 'notAStream' is not a ChannelReader<> or IAsyncEnumerable<>.",
    )
  })
})

describe('client-to-server streams', () => {
  it('hands a Subject passed to invoke() to the hub method as an AsyncIterable', async () => {
    await using client = await connectClient(fixture.server.hubUrl('/hubs/echo'))
    const subject = new signalR.Subject<string>()
    const result = client.invoke('concat', subject)
    subject.next('Hello ')
    subject.next('world')
    subject.next('!')
    subject.complete()
    await expect(result).resolves.toBe('Hello world!')
  })

  it("fails the hub method with the client's error when the client stream errs", async () => {
    await using client = await connectClient(fixture.server.hubUrl('/hubs/echo'))
    const subject = new signalR.Subject<string>()
    const result = client.invoke('concat', subject)
    subject.next('partial')
    subject.error(new Error('Something bad'))
    await expect(result).rejects.toThrow("An unexpected error occurred invoking 'concat' on the server. HubException: Something bad")
  })
})

describe('DefaultHub streams', () => {
  it('publishStream publishes each item to the services in order and returns the count', async () => {
    const listener = await fixture.service.listen('im.default.receive.sensor.readings')
    await using client = await connectClient(fixture.server.hubUrl())
    const subject = new signalR.Subject<{ t: number }>()
    const result = client.invoke('publishStream', 'sensor.readings', subject)
    for (let t = 0; t < 3; t++) subject.next({ t })
    subject.complete()
    await expect(result).resolves.toBe(3)
    for (let t = 0; t < 3; t++) {
      expect((await listener.next()).json).toMatchObject({ method: 'publishStream', topic: 'sensor.readings', args: [{ t }], connectionId: client.connectionId })
    }
  })

  it('watch streams what services publish on im.default.watch.<topic> until disposed', async () => {
    await using client = await connectClient(fixture.server.hubUrl())
    const items: unknown[] = []
    const subscription = client.stream('watch', 'prices.eur').subscribe({ next: (item) => items.push(item), complete: () => {}, error: () => {} })
    // The watch subscribes on NATS as the stream starts: publish markers until the first arrives.
    await withTimeout(
      (async () => {
        while (items.length === 0) {
          await fixture.service.publish('im.default.watch.prices.eur', { marker: true })
          await new Promise((resolve) => setTimeout(resolve, 20))
        }
      })(),
      5000,
      'the watch to start',
    )
    const start = items.length
    for (const price of [1.01, 1.02, 1.03]) await fixture.service.publish('im.default.watch.prices.eur', { price })
    await withTimeout(
      (async () => {
        while (items.length < start + 3) await new Promise((resolve) => setTimeout(resolve, 10))
      })(),
      5000,
      'three prices',
    )
    expect(items.slice(start)).toEqual([{ price: 1.01 }, { price: 1.02 }, { price: 1.03 }])
    subscription.dispose()
    await expect(client.invoke('publish', 'still.fine')).resolves.toBeNull()
    const error = await collect(client.stream('watch', 'bad topic'))
    expect(error.error).toBe("An unexpected error occurred invoking 'watch' on the server. HubException: Invalid topic 'bad topic': topic tokens may contain only letters, digits, '_' and '-'.")
  })
})
