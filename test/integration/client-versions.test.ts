/**
 * Every major of the official JavaScript client since 1.x, on every transport, with JSON and
 * MessagePack: connect with a token, invoke a hub method with an argument and read its result,
 * receive a push from the hub, stop cleanly. One node serves the whole matrix.
 *
 * Each major is installed under an npm alias (package.json: signalr-1 ... signalr-9 and their
 * -msgpack packages; 10 is @microsoft/signalr itself), the last patch of each. Under Node the
 * clients use what their own dependencies bring (request, node-fetch, ws, eventsource); 5.x also
 * needs `self` (see MAJORS). The -msgpack packages of 3.x to 9.x take only enums and NullLogger
 * from their peer @microsoft/signalr, which npm resolves to 10 (the values never changed); their
 * encoding (msgpack5 before 6.0, @msgpack/msgpack since) is their own.
 *
 * Clients before 7.0 post MessagePack bodies as text/plain;charset=UTF-8, or under Node 1.x and
 * 3.x with no Content-Type: the long-polling MessagePack cells check that the server reads a body
 * by the connection's protocol, not by its Content-Type.
 */
import * as v10 from '@microsoft/signalr'
import * as v10msgpack from '@microsoft/signalr-protocol-msgpack'
import * as v1 from 'signalr-1'
import * as v1msgpack from 'signalr-1-msgpack'
import * as v3 from 'signalr-3'
import * as v3msgpack from 'signalr-3-msgpack'
import * as v5 from 'signalr-5'
import * as v5msgpack from 'signalr-5-msgpack'
import * as v6 from 'signalr-6'
import * as v6msgpack from 'signalr-6-msgpack'
import * as v7 from 'signalr-7'
import * as v7msgpack from 'signalr-7-msgpack'
import * as v8 from 'signalr-8'
import * as v8msgpack from 'signalr-8-msgpack'
import * as v9 from 'signalr-9'
import * as v9msgpack from 'signalr-9-msgpack'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { withTimeout } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

/** The part of a client's API this test uses, the same in every major. */
interface ClientConnection {
  start(): Promise<void>
  stop(): Promise<void>
  invoke(method: string, ...args: unknown[]): Promise<unknown>
  on(method: string, handler: (...args: unknown[]) => void): void
  onclose(handler: (error?: Error) => void): void
}

interface ClientBuilder {
  withUrl(url: string, options: { transport: number; accessTokenFactory: () => string }): ClientBuilder
  withHubProtocol(protocol: object): ClientBuilder
  configureLogging(level: number): ClientBuilder
  build(): ClientConnection
}

interface ClientPackage {
  readonly VERSION: string
  readonly HubConnectionBuilder: new () => ClientBuilder
  readonly HttpTransportType: { readonly WebSockets: number; readonly ServerSentEvents: number; readonly LongPolling: number }
  readonly LogLevel: { readonly None: number }
}

interface ClientMajor {
  readonly name: string
  readonly core: ClientPackage
  readonly msgpack: { readonly MessagePackHubProtocol: new () => object }
  /** What `start()` rejects with when only Server-Sent Events are allowed with MessagePack. */
  readonly sseBinaryRefusal: RegExp
  /** Globals the client's constructor reads under Node, present only while it runs. */
  readonly nodeGlobals?: Readonly<Record<string, unknown>>
}

/** 3.x and later name the reason; 1.x only says that no transport was left. */
const SSE_NOT_BINARY = /'ServerSentEvents' does not support Binary\./

function major(packageName: string, core: unknown, msgpack: ClientMajor['msgpack'], more: Partial<ClientMajor> = {}): ClientMajor {
  const typed = core as ClientPackage
  return { name: `${packageName} ${typed.VERSION}`, core: typed, msgpack, sseBinaryRefusal: SSE_NOT_BINARY, ...more }
}

const MAJORS: readonly ClientMajor[] = [
  major('@aspnet/signalr', v1, v1msgpack, { sseBinaryRefusal: /^Unable to initialize any of the available transports\.$/ }),
  major('@microsoft/signalr', v3, v3msgpack),
  // 5.x binds Node's global fetch (Node 18 and later) to `self`, which only browsers define.
  major('@microsoft/signalr', v5, v5msgpack, { nodeGlobals: { self: globalThis } }),
  major('@microsoft/signalr', v6, v6msgpack),
  major('@microsoft/signalr', v7, v7msgpack),
  major('@microsoft/signalr', v8, v8msgpack),
  major('@microsoft/signalr', v9, v9msgpack),
  major('@microsoft/signalr', v10, v10msgpack),
]

const TRANSPORTS = ['WebSockets', 'ServerSentEvents', 'LongPolling'] as const
type Transport = (typeof TRANSPORTS)[number]
type Protocol = 'json' | 'messagepack'

/** Every transport with every protocol, but MessagePack on Server-Sent Events (text only). */
const CELLS = TRANSPORTS.flatMap((transport): Array<readonly [Transport, Protocol]> =>
  transport === 'ServerSentEvents' ? [[transport, 'json']] : [[transport, 'json'], [transport, 'messagepack']],
)

/** Non-ASCII text, numbers and nesting: what a byte-mangling path would break. */
const ARGUMENT = { text: 'héllo wörld ✓ 你好', n: 42, list: [1, 2.5, 'three'], nested: { ok: true } }

let server: TestServer

beforeAll(async () => {
  server = await startTestServer({ hubs: [EchoHub], config: { jwt: { secret: TEST_JWT_SECRET } } })
})

afterAll(async () => {
  await server?.close()
})

function userFor(client: ClientMajor, transport: Transport, protocol: Protocol): string {
  return `${client.name}-${transport}-${protocol}`.replace(/[^A-Za-z0-9]/g, '-')
}

/** A connection of `client` to EchoHub on any of `transports` (flags combined, as the clients take them). */
function build(client: ClientMajor, transports: readonly Transport[], protocol: Protocol, token: string): ClientConnection {
  const transport = transports.reduce((flags, name) => flags | client.core.HttpTransportType[name], 0)
  let builder = new client.core.HubConnectionBuilder()
    .withUrl(server.hubUrl('/hubs/echo'), { transport, accessTokenFactory: () => token })
    .configureLogging(client.core.LogLevel.None)
  if (protocol === 'messagepack') builder = builder.withHubProtocol(new client.msgpack.MessagePackHubProtocol())
  const globals = Object.entries(client.nodeGlobals ?? {})
  for (const [name, value] of globals) Object.defineProperty(globalThis, name, { value, configurable: true })
  try {
    return builder.build()
  } finally {
    for (const [name] of globals) Reflect.deleteProperty(globalThis, name)
  }
}

describe.each(MAJORS)('$name', (client) => {
  it.each(CELLS)('%s, %s: invokes with an argument, reads the result, receives a push and stops', async (transport, protocol) => {
    const user = userFor(client, transport, protocol)
    const connection = build(client, [transport], protocol, await tokenFor(user))
    const closedWith = new Promise<Error | undefined>((resolve) => connection.onclose((error) => resolve(error)))
    const told = new Promise<unknown[]>((resolve) => connection.on('told', (...args) => resolve(args)))
    await withTimeout(connection.start(), 5000, 'start')
    try {
      expect(await connection.invoke('whoAmI')).toMatchObject({ userId: user, transport })
      expect(await connection.invoke('echo', ARGUMENT)).toEqual(ARGUMENT)
      await connection.invoke('tellUser', user, 'pushed ✓')
      expect((await withTimeout(told, 5000, 'the push'))[0]).toBe('pushed ✓')
    } finally {
      await withTimeout(connection.stop(), 5000, 'stop')
    }
    expect(await withTimeout(closedWith, 5000, 'the close')).toBeUndefined()
  })

  // Server-Sent Events carry text only: the negotiate response offers them for 'Text' alone, as
  // ASP.NET Core's does, so a MessagePack client never opens them.
  it('MessagePack: refuses Server-Sent Events alone, and falls back to long polling beside them', async () => {
    const token = await tokenFor(userFor(client, 'ServerSentEvents', 'messagepack'))
    const refused = build(client, ['ServerSentEvents'], 'messagepack', token)
    await expect(withTimeout(refused.start(), 5000, 'start')).rejects.toThrow(client.sseBinaryRefusal)
    const fallback = build(client, ['ServerSentEvents', 'LongPolling'], 'messagepack', token)
    await withTimeout(fallback.start(), 5000, 'start')
    try {
      expect(await fallback.invoke('whoAmI')).toMatchObject({ transport: 'LongPolling' })
      expect(await fallback.invoke('echo', ARGUMENT)).toEqual(ARGUMENT)
    } finally {
      await withTimeout(fallback.stop(), 5000, 'stop')
    }
  })
})
