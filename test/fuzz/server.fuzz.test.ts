/**
 * Hostile input against a real node: raw WebSockets that send
 * any first message and any frames after it, any HTTP request to negotiate, and any body to the
 * publish API. The node answers only what the specs document, and stays alive: after every run an
 * official client on the same node still round-trips a call, /healthz answers 200, and nothing
 * was logged at error level (a handler that threw).
 */
import { request } from 'node:http'
import { isUtf8 } from 'node:buffer'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { DefaultHub } from '../../hubs/default-hub.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { writeFrame } from '../../src/protocol/binary-message-format.js'
import { HandshakeError, parseHandshakeRequest, writeHandshakeResponse } from '../../src/protocol/handshake.js'
import type { HubProtocol } from '../../src/protocol/hub-protocol.js'
import { jsonHubProtocol } from '../../src/protocol/json-hub-protocol.js'
import { messagePackHubProtocol } from '../../src/protocol/messagepack-hub-protocol.js'
import { CLOSE_ERROR_PREFIX, MessageType } from '../../src/protocol/messages.js'
import type { HubMessage } from '../../src/protocol/messages.js'
import { connectClient, withTimeout } from '../support/clients.js'
import type { TestClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import type { TestServer } from '../support/im-server.js'
import { budget, timeoutFor } from './fuzz-budget.js'
import { concatBytes, hostileBytes, hubMessage, msgpackFrame, nearValidJsonMessage, nearValidMsgpackItems, RS, target } from './hub-message-arbitraries.js'
import { declaredLengthBomb, msgpackHeaderSoup } from './msgpack-bomb-arbitraries.js'
import { anyJson, contractPayload, recased } from './service-payload-arbitraries.js'

const HUB_PATH = '/signalr-hubs/default'
/** The node's default maximum receive message size (docs/configuration.md). */
const MAX_MESSAGE_SIZE = 32_768
const TIMEOUT = timeoutFor(20_000)

let server: TestServer
let bystander: TestClient
const errorsLogged: string[] = []

/** Keeps what is logged at error level: the node logs there only when a handler threw. */
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (message: string, fields?: LogFields) => errorsLogged.push(`${message} ${JSON.stringify(fields ?? {}, (_, v: unknown) => (v instanceof Error ? v.stack : v))}`),
}

beforeAll(async () => {
  server = await startTestServer({
    logger,
    // The bystander calls once per run, faster than the default 50 per second allows: lift the
    // rate limit (a raw connection sends a dozen messages at most, far below any limit).
    config: { hubs: { handshakeTimeoutMs: 300, maxInvocationsPerSecond: 1_000_000, invocationBurst: 1_000_000 } },
  })
  bystander = await connectClient(server.hubUrl())
})

afterAll(async () => {
  await bystander?.stop()
  await server?.close()
})

/** The node still serves: the bystander's call completes, /healthz answers 200, no handler threw. */
async function expectAlive(): Promise<void> {
  await withTimeout(bystander.invoke('publish', 'fuzz.alive'), 5000, "the bystander's publish")
  const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) })
  expect(health.status).toBe(200)
  await health.json()
  expect(errorsLogged).toEqual([])
}

/** After a property, the raw connections are gone: only the bystander is left, within 2 s. */
async function expectOnlyBystanderConnected(): Promise<void> {
  const deadline = Date.now() + 2000
  let connections: number | undefined
  while (Date.now() < deadline) {
    const health = (await (await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) })).json()) as { connections: number }
    connections = health.connections
    if (connections === 1) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  expect(connections, 'connections left open after the fuzz').toBe(1)
}

interface Frame {
  readonly data: string | Uint8Array
  /** The WebSocket opcode: binary, or text (a text frame may carry raw bytes, invalid UTF-8 included). */
  readonly binary: boolean
}

interface Received {
  readonly data: Buffer
  readonly binary: boolean
}

const PROBE_ID = 'fuzz-probe'
const utf8 = new TextEncoder()

/** An invocation of a method the hub lacks: its Completion tells that every earlier frame was read. */
function probeFrame(protocol: HubProtocol): Frame {
  const message: HubMessage = { type: MessageType.Invocation, invocationId: PROBE_ID, target: 'fuzzProbe', arguments: [] }
  const data = protocol.writeMessage(message)
  return { data, binary: typeof data !== 'string' }
}

/**
 * Opens a raw WebSocket, sends the frames (then the probe, if given) and collects what the node
 * sends until it closes, the probe is answered, or 200 ms pass without a frame (3 s at most).
 */
async function session(frames: readonly Frame[], probe: Frame | undefined): Promise<Received[]> {
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}${HUB_PATH}`)
  const received: Received[] = []
  let onFrame = (): void => {}
  ws.on('message', (data, binary) => {
    received.push({ data: Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer), binary })
    onFrame()
  })
  ws.on('error', () => {})
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()))
  await withTimeout(new Promise((resolve, reject) => ws.once('open', resolve).once('unexpected-response', () => reject(new Error('upgrade refused')))), 5000, 'the socket to open')
  for (const frame of [...frames, ...(probe ? [probe] : [])]) {
    if (ws.readyState !== WebSocket.OPEN) break
    ws.send(frame.data, { binary: frame.binary }, () => {})
  }
  await new Promise<void>((resolve) => {
    let idle: NodeJS.Timeout | undefined
    const done = (): void => {
      clearTimeout(idle)
      clearTimeout(cap)
      resolve()
    }
    const cap = setTimeout(done, 3000)
    const arm = (): void => {
      clearTimeout(idle)
      idle = setTimeout(done, 200)
    }
    // Once the probe is answered, a short grace for the answers of calls that were still running.
    onFrame = () => (received.some((r) => r.data.includes(PROBE_ID)) ? setTimeout(done, 30) : arm())
    void closed.then(done)
    arm()
  })
  ws.terminate()
  await withTimeout(closed, 2000, 'the socket to close')
  return received
}

const PROTOCOLS: ReadonlyMap<string, HubProtocol> = new Map<string, HubProtocol>([
  ['json', jsonHubProtocol],
  ['messagepack', messagePackHubProtocol],
])

type ExpectedHandshake = { readonly protocol: HubProtocol } | { readonly error: string } | 'no-answer' | 'unknown'

/**
 * What the node must answer to a first frame read alone, from the pure handshake parser and the
 * .NET rules (HubConnectionContext.cs): 'unknown' when the request is not finished in this frame.
 */
function expectedHandshake(frame: Frame): ExpectedHandshake {
  const bytes = typeof frame.data === 'string' ? Buffer.from(frame.data, 'utf8') : Buffer.from(frame.data)
  // A text frame that is not UTF-8 is refused by the WebSocket layer: close 1007, no handshake reply.
  if (!frame.binary && !isUtf8(bytes)) return 'no-answer'
  const parsed = parseHandshakeRequest(frame.binary ? bytes : bytes.toString('utf8'), MAX_MESSAGE_SIZE)
  switch (parsed.kind) {
    case 'incomplete':
      return 'unknown'
    case 'error':
      return { error: parsed.reason === 'too-large' ? HandshakeError.canceled : HandshakeError.unexpected }
    case 'request': {
      const protocol = PROTOCOLS.get(parsed.protocol)
      if (!protocol) return { error: HandshakeError.unsupportedProtocol(parsed.protocol) }
      if (parsed.version > protocol.version) return { error: HandshakeError.unsupportedVersion(parsed.protocol, parsed.version) }
      return { protocol }
    }
  }
}

/** The handshake errors a SignalR server answers with (HandshakeError in src/protocol/handshake.ts). */
const HANDSHAKE_ERRORS: readonly RegExp[] = [
  /^Handshake was canceled\.$/,
  /^An unexpected error occurred during connection handshake\.$/,
  /^The protocol '.*' is not supported\.$/s,
  /^The server does not support version .+ of the '.*' protocol\.$/s,
]

/** The texts a Completion may carry (src/hub/invocation-errors.ts, the .NET dispatcher's texts). */
const COMPLETION_ERRORS: readonly RegExp[] = [
  /^Failed to invoke '.*' due to an error on the server\./s,
  /^Failed to invoke '.*' because user is unauthorized$/s,
  /^The client attempted to invoke the (non-)?streaming '.*' method with a (non-)?streaming invocation\.$/s,
  /^An unexpected error occurred invoking '.*' on the server\./s,
  /^Invocation ID '.*' is already in use\.$/s,
  /^An error occurred on the server while streaming results\./,
]

/** The node's answers after a successful handshake: each a whole frame of documented messages. */
function expectDocumentedMessages(protocol: HubProtocol, frames: readonly Received[]): void {
  let closedByMessage = false
  for (const frame of frames) {
    expect(closedByMessage, 'a frame after the Close message').toBe(false)
    expect(frame.binary).toBe(protocol === messagePackHubProtocol)
    const result = protocol.parseMessages(frame.binary ? frame.data : frame.data.toString('utf8'))
    expect(result.error).toBeUndefined()
    expect(result.rest).toBeUndefined()
    for (const message of result.messages) {
      switch (message.type) {
        case MessageType.Completion:
          if (message.error !== undefined) expect(COMPLETION_ERRORS.some((p) => p.test(message.error!)), message.error).toBe(true)
          break
        case MessageType.StreamItem:
        case MessageType.Ping:
          break
        case MessageType.Close:
          if (message.error !== undefined) expect(message.error.startsWith(CLOSE_ERROR_PREFIX), message.error).toBe(true)
          closedByMessage = true
          break
        default:
          expect.unreachable(`undocumented answer ${JSON.stringify(message)}`)
      }
    }
  }
}

function checkSession(first: Frame, received: readonly Received[]): void {
  const expected = expectedHandshake(first)
  if (expected === 'no-answer') return expect(received).toEqual([])
  const [reply, ...after] = received
  if (reply === undefined) {
    // Only a request still unfinished when the socket was dropped goes unanswered.
    expect(expected).toBe('unknown')
    return
  }
  const text = reply.data.toString('utf8')
  expect(text).toMatch(/^\{("error":".*")?\}\u001e$/s)
  const body = JSON.parse(text.slice(0, -1)) as { error?: string }
  if (body.error !== undefined) {
    expect(HANDSHAKE_ERRORS.some((p) => p.test(body.error!)), body.error).toBe(true)
    expect(reply.binary).toBe(false)
    expect(after).toEqual([])
  }
  if (expected === 'unknown') return
  if ('error' in expected) return expect(text).toBe(writeHandshakeResponse(expected.error))
  expect(text).toBe(writeHandshakeResponse())
  // The reply travels in the protocol's own format: a binary frame for MessagePack.
  expect(reply.binary).toBe(expected.protocol === messagePackHubProtocol)
  expectDocumentedMessages(expected.protocol, after)
}

const text = (data: string): Frame => ({ data, binary: false })
const binary = (data: Uint8Array): Frame => ({ data, binary: true })

const validHandshake = (protocol: string, version: number): string => JSON.stringify({ protocol, version }) + RS

/** A topic DefaultHub accepts, so that publish and watch reach the bus. */
const topic = fc.stringMatching(/^[a-z][a-z0-9_-]{0,6}(\.[a-z0-9_-]{1,6}){0,2}$/)

/** Invocations of DefaultHub's methods with a valid topic, and hub messages of every type. */
function hubMessages(): fc.Arbitrary<HubMessage> {
  const publish = fc.record({
    type: fc.constant(MessageType.Invocation),
    invocationId: fc.string({ minLength: 1, maxLength: 4 }),
    target: fc.constant('publish'),
    arguments: fc.tuple(topic, fc.array(anyJson, { maxLength: 2 })).map(([t, args]) => [t, ...args]),
  })
  const watch = fc.record({
    type: fc.constant(MessageType.StreamInvocation),
    invocationId: fc.string({ minLength: 1, maxLength: 4 }),
    target: fc.constant('watch'),
    arguments: topic.map((t) => [t]),
  })
  return fc.oneof({ weight: 3, arbitrary: hubMessage(target) }, { weight: 1, arbitrary: publish as fc.Arbitrary<HubMessage> }, { weight: 1, arbitrary: watch as fc.Arbitrary<HubMessage> })
}

/** JSON frames: valid messages, near-valid objects, any text; several per WebSocket frame at times. */
const jsonFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 8, arbitrary: fc.array(hubMessages(), { minLength: 1, maxLength: 3 }).map((ms) => text(ms.map((m) => jsonHubProtocol.writeMessage(m)).join(''))) },
  { weight: 4, arbitrary: nearValidJsonMessage.map((o) => text(JSON.stringify(o) + RS)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(text) },
  { weight: 1, arbitrary: hostileBytes.map((bytes) => ({ data: bytes, binary: false })) },
  { weight: 1, arbitrary: fc.constant(text('{"type":1,"target":"publish","arguments":["big","' + 'x'.repeat(MAX_MESSAGE_SIZE) + '"]}' + RS)) },
)

/**
 * MessagePack frames: valid messages, near-valid arrays, hostile bytes, nesting as deep as the size
 * limit allows, headers declaring more than their frame holds, and headers of any length among any bytes.
 */
const msgpackFrames: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 8, arbitrary: fc.array(hubMessages(), { minLength: 1, maxLength: 3 }).map((ms) => binary(concatBytes(ms.map((m) => messagePackHubProtocol.writeMessage(m).slice())))) },
  { weight: 4, arbitrary: nearValidMsgpackItems.map((v) => binary(msgpackFrame(v))) },
  { weight: 1, arbitrary: hostileBytes.map(binary) },
  { weight: 1, arbitrary: fc.constantFrom(8000, 30_000).map((depth) => binary(deeplyNestedPublish(depth))) },
  { weight: 1, arbitrary: declaredLengthBomb.map(binary) },
  { weight: 1, arbitrary: msgpackHeaderSoup.map(binary) },
)

/** `publish('deep', [[[...]]])` in MessagePack: nesting that JSON.stringify cannot follow. */
function deeplyNestedPublish(depth: number): Uint8Array {
  const str = (value: string): Uint8Array => concatBytes([Uint8Array.of(0xa0 | value.length), utf8.encode(value)])
  // [1, {}, "deep", "publish", ["deep", [[...[nil]...]]]]
  const head = concatBytes([Uint8Array.of(0x95, MessageType.Invocation, 0x80), str('deep'), str('publish'), Uint8Array.of(0x92), str('deep')])
  return writeFrame(concatBytes([head, new Uint8Array(depth).fill(0x91), Uint8Array.of(0xc0)]))
}

/** A near-valid handshake request: protocol and version of any type, extra fields, with or without the separator. */
const nearValidHandshake: fc.Arbitrary<string> = fc
  .tuple(
    fc.record(
      {
        protocol: fc.oneof(fc.constantFrom('json', 'messagepack', 'JSON', 'blazorpack', ''), anyJson),
        version: fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom(1e300, 2 ** 53, 2 ** 31, 1.5, '1', null, true), anyJson),
        extra: anyJson,
      },
      { requiredKeys: [] },
    ),
    fc.constantFrom(RS, RS, ''),
  )
  .map(([request, separator]) => JSON.stringify(request) + separator)

/** A first frame the handshake parser must refuse or wait on: near-valid requests, garbage, an oversized one. */
const fuzzedFirstFrame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(nearValidHandshake, fc.boolean()).map(([t, asBinary]) => (asBinary ? binary(utf8.encode(t)) : text(t))) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).map(text) },
  { weight: 1, arbitrary: hostileBytes.map(binary) },
  { weight: 1, arbitrary: hostileBytes.map((bytes) => ({ data: bytes, binary: false })) },
  { weight: 1, arbitrary: fc.constant(text('{"protocol":"json","version":1,"pad":"' + 'x'.repeat(MAX_MESSAGE_SIZE) + '"}' + RS)) },
)

/** Frames mostly in the protocol the handshake chose, at times in the other one. */
const mostly = (own: fc.Arbitrary<Frame>, other: fc.Arbitrary<Frame>) => fc.array(fc.oneof({ weight: 6, arbitrary: own }, { weight: 1, arbitrary: other }), { maxLength: 4 })

/**
 * A connection: a valid JSON or MessagePack handshake (messages may ride in the same frame, as
 * the clients send them) followed by that protocol's frames, or a fuzzed first frame and anything.
 */
const scenario: fc.Arbitrary<readonly [Frame, readonly Frame[]]> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.tuple(fc.constantFrom(1, 2), fc.option(jsonFrame, { nil: undefined })).map(([v, after]) => text(validHandshake('json', v) + (after && typeof after.data === 'string' ? after.data : ''))),
      mostly(jsonFrame, msgpackFrames),
    ),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(
      fc.tuple(fc.constantFrom(1, 2), fc.option(msgpackFrames, { nil: undefined })).map(([v, after]) => binary(concatBytes([utf8.encode(validHandshake('messagepack', v)), ...(after ? [after.data as Uint8Array] : [])]))),
      mostly(msgpackFrames, jsonFrame),
    ),
  },
  { weight: 3, arbitrary: fc.tuple(fuzzedFirstFrame, fc.array(fc.oneof(jsonFrame, msgpackFrames), { maxLength: 3 })) },
)

describe('raw WebSocket connections with any first message and any frames after it', () => {
  it(
    'get only a documented handshake reply, documented messages and Close; the node stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(scenario, async ([first, then]) => {
          const expected = expectedHandshake(first)
          const probe = typeof expected === 'object' && 'protocol' in expected ? probeFrame(expected.protocol) : undefined
          const received = await session([first, ...then], probe)
          checkSession(first, received)
          await expectAlive()
        }),
        budget(0x5e7a, 60),
      )
      await expectOnlyBystanderConnected()
    },
    TIMEOUT,
  )
})

interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/** One HTTP/1.1 request on its own connection; a network error rejects, bounded by 5 s. */
function http(method: string, path: string, headers: Record<string, string>, body: Uint8Array | string): Promise<HttpAnswer> {
  return withTimeout(
    new Promise((resolve, reject) => {
      // The body is always framed by its length: a GET body without one would read as a second request.
      const length = String(typeof body === 'string' ? Buffer.byteLength(body) : body.length)
      const req = request({ host: '127.0.0.1', port: server.port, method, path, headers: { ...headers, 'content-length': length }, agent: false }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(body)
    }),
    5000,
    `${method} ${path}`,
  )
}

/** Methods Node's parser knows, and made-up ones (refused by the parser with 400). */
const method = fc.oneof(fc.constantFrom('GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'QUERY'), fc.stringMatching(/^[A-Z]{1,8}$/))

const headerName = fc.oneof(
  fc.constantFrom('origin', 'authorization', 'content-type', 'accept', 'cookie', 'x-requested-with', 'x-signalr-user-agent', 'access-control-request-headers', 'access-control-request-method', 'x-api-key', 'x-forwarded-for'),
  fc.stringMatching(/^x-[a-z0-9-]{1,12}$/),
)
const headerValue = fc.oneof(fc.constantFrom('Bearer abc', 'Bearer ', 'null', 'http://evil.example', 'application/json'), fc.stringMatching(/^[\x20-\x7e]{0,40}$/).map((v) => v.trim()))
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 5 })
const body = fc.oneof(fc.constant(''), fc.string({ unit: 'binary', maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), anyJson.map((v) => JSON.stringify(v)))

const queryKey = fc.oneof(fc.mixedCase(fc.constantFrom('negotiateVersion', 'useStatefulReconnect', 'access_token', 'id')), fc.string({ unit: 'grapheme', maxLength: 6 }))
const queryValue = fc.oneof(fc.constantFrom('0', '1', '2', '-1', ' 1', '+1', '1.0', 'abc', 'true', '2147483648', ''), fc.string({ unit: 'grapheme', maxLength: 12 }))
const query = fc
  .tuple(fc.array(fc.tuple(queryKey, queryValue), { maxLength: 4 }), fc.constantFrom('', '&%zz', '&=', '&negotiateVersion', '#x'))
  .map(([pairs, tail]) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&') + tail)

/**
 * The statuses of the negotiate endpoint (TransportProtocols.md, HttpConnectionDispatcher), of its
 * connection limits (429, once this address holds too many negotiated connections) and of Node's
 * parser (400, 431).
 */
const NEGOTIATE_STATUSES = [200, 204, 400, 401, 403, 405, 413, 429, 431]
const NEGOTIATE_ERRORS = [/^The client requested a non-integer protocol version\.$/, /^The client requested version '-?\d+', but the server does not support this version\.$/]

describe('negotiate', () => {
  it(
    'answers any request with a documented status and body; the node stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(method, fc.mixedCase(fc.constant(`${HUB_PATH}/negotiate`)), query, headers, body, async (m, path, q, h, b) => {
          const answer = await http(m, q === '' ? path : `${path}?${q}`, h, b)
          expect(NEGOTIATE_STATUSES, `${answer.status} ${answer.body}`).toContain(answer.status)
          if (answer.status === 200 && m !== 'HEAD') {
            const negotiated = JSON.parse(answer.body) as { error?: string; negotiateVersion?: number; connectionId?: string; availableTransports?: unknown[] }
            if (negotiated.error !== undefined) expect(NEGOTIATE_ERRORS.some((p) => p.test(negotiated.error!)), negotiated.error).toBe(true)
            else {
              expect([0, 1]).toContain(negotiated.negotiateVersion)
              expect(typeof negotiated.connectionId).toBe('string')
              expect(Array.isArray(negotiated.availableTransports)).toBe(true)
            }
          }
          await expectAlive()
        }),
        budget(0x9e90, 100),
      )
    },
    TIMEOUT,
  )
})

/** More than the publish API's 1 MiB body limit. */
const OVERSIZED = Buffer.alloc(1024 * 1024 + 1, 0x20)

const subject = fc.oneof(
  fc.constantFrom('im.default.send', 'im.default.send.client', 'im.default.send.user', 'im.default.send.group', 'im.default.groups.add', 'im.default.groups.remove', 'im.default.receive.x', 'im.default.watch.x'),
  fc.constantFrom('', '*', '>', 'a..b', '.a', 'a.', ' a', 'a\r\nPUB x 1', '$JS.API.x', 'x'.repeat(129)),
  topic,
  anyJson,
)

/** What a service would publish: mostly the DefaultHub contract's fields, in any case, well-typed or not. */
const servicePayload = fc.oneof(contractPayload, contractPayload.chain(recased), anyJson)

const publishBody = fc.oneof(
  { weight: 4, arbitrary: fc.record({ subject, payload: servicePayload }, { requiredKeys: [] }).map((r) => JSON.stringify(r)) },
  { weight: 1, arbitrary: anyJson.map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 100 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 100 }) },
  { weight: 1, arbitrary: fc.constant(OVERSIZED) },
)

describe('the publish API', () => {
  it(
    'answers any body with 202, 400, 403, 405 or 413, never 500; the node stays up',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof({ weight: 5, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: method }), publishBody, headers, async (m, b, h) => {
          const answer = await http(m, '/api/publish', h, b)
          // Node's parser refuses a made-up method with 400 before the endpoint sees it.
          // 403: a browser Origin, a proxy header, a stray X-Api-Key, or a subject outside the service ones.
          expect([202, 400, 403, 405, 413], `${answer.status} ${answer.body}`).toContain(answer.status)
          await expectAlive()
        }),
        budget(0xa91b, 100),
      )
    },
    TIMEOUT,
  )
})
