import { describe, expect, it } from 'vitest'
import { defaultNodeId, describeConfig, resolveConfig } from '../../../src/config/load-config.js'
import { defineConfig } from '../../../src/config/define-config.js'
import type { ImConfig, ImConfigInput } from '../../../src/config/config.js'
import { ImErrorCode } from '../../../src/errors.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const PEM = ['-----BEGIN PUBLIC KEY-----', 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE', '-----END PUBLIC KEY-----'].join('\n')

function expectInvalid(input: ImConfigInput, env: Record<string, string>, message: string): void {
  expect(() => resolveConfig(input, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message }))
}

describe('resolveConfig defaults', () => {
  it('fills every setting when nothing is given', () => {
    const config = resolveConfig({}, {})
    expect(config).toMatchObject({
      port: 5000,
      host: '0.0.0.0',
      hubsDir: 'hubs',
      generatedDir: 'generated',
      nats: { url: 'nats://127.0.0.1:4222', explicit: false, reconnectWaitMs: 2000, capHeaders: true },
      corsOrigins: [],
      hubs: {
        pathPrefix: '/signalr-hubs',
        maximumReceiveMessageSize: 32768,
        keepAliveIntervalMs: 15000,
        clientTimeoutMs: 30000,
        clientResultTimeoutMs: 30000,
        handshakeTimeoutMs: 15000,
        disconnectTimeoutMs: 15000,
        negotiationTimeoutMs: 15000,
        longPollIdleTimeoutMs: 15000,
        statefulReconnectWindowMs: 15000,
        relayMarginMs: 5000,
        enableDetailedErrors: false,
        envelopeCasing: 'camel',
        maxGroupsPerConnection: 128,
        maxWatchesPerConnection: 64,
        maxWatchedSubjects: 100000,
        shutdownTimeoutMs: 5000,
        streamBufferCapacity: 100,
        maxStreamsPerInvocation: 8,
        maxClientStreamsPerConnection: 32,
        maxStreamBufferBytes: 1024 * 1024,
        maxStreamBufferBytesPerNode: 64 * 1024 * 1024,
        transports: ['WebSockets', 'ServerSentEvents', 'LongPolling'],
      },
    })
    expect(config.jwt).toBeUndefined()
    expect(config.apiKey).toBeUndefined()
    expect(config.internalPort).toBeUndefined()
    expect(config.internalHost).toBe('127.0.0.1')
    expect(config.nodeId).toMatch(/^[A-Za-z0-9_-]+-[0-9a-f]{4}$/)
  })

  it('derives a node id from the host name, keeping only [A-Za-z0-9_-]', () => {
    expect(defaultNodeId('web.01.example.com')).toMatch(/^web-[0-9a-f]{4}$/)
    expect(defaultNodeId('my host!#:name.internal')).toMatch(/^myhostname-[0-9a-f]{4}$/)
    expect(defaultNodeId('...')).toMatch(/^node-[0-9a-f]{4}$/)
    expect(defaultNodeId('a-very-long-host-name-indeed')).toMatch(/^a-very-long-host-[0-9a-f]{4}$/)
  })

  it('takes values from the config file', () => {
    const input = defineConfig({ port: 8080, nodeId: 'n1', hubs: { keepAliveIntervalMs: 1000, clientTimeoutMs: 2000 } })
    const config = resolveConfig(input, {})
    expect(config).toMatchObject({ port: 8080, nodeId: 'n1', hubs: { keepAliveIntervalMs: 1000, clientTimeoutMs: 2000 } })
  })
})

describe('resolveConfig environment overrides', () => {
  const cases: ReadonlyArray<[string, string, (c: ReturnType<typeof resolveConfig>) => unknown, unknown]> = [
    ['IM_PORT', '7000', (c) => c.port, 7000],
    ['IM_PORT', ' 0 ', (c) => c.port, 0],
    ['IM_HOST', '127.0.0.1', (c) => c.host, '127.0.0.1'],
    ['IM_NATS_URL', 'nats://a:4222,nats://b:4222', (c) => c.nats, { url: 'nats://a:4222,nats://b:4222', explicit: true, reconnectWaitMs: 2000, capHeaders: true }],
    ['IM_NATS_TOKEN', 's3cret', (c) => c.nats.token, 's3cret'],
    ['IM_NATS_RECONNECT_WAIT_MS', '250', (c) => c.nats.reconnectWaitMs, 250],
    ['IM_MAX_GROUPS_PER_CONNECTION', '5', (c) => c.hubs.maxGroupsPerConnection, 5],
    ['IM_MAX_WATCHES_PER_CONNECTION', '8', (c) => c.hubs.maxWatchesPerConnection, 8],
    ['IM_MAX_WATCHED_SUBJECTS', '2000', (c) => c.hubs.maxWatchedSubjects, 2000],
    ['IM_MAX_SERVICE_PAYLOAD_SIZE', '65536', (c) => c.hubs.maxServicePayloadSize, 65536],
    ['IM_MAX_PARALLEL_INVOCATIONS', '4', (c) => c.hubs.maxParallelInvocationsPerClient, 4],
    ['IM_CLIENT_RESULT_TIMEOUT_MS', '5000', (c) => c.hubs.clientResultTimeoutMs, 5000],
    ['IM_STREAM_BUFFER_CAPACITY', '10', (c) => c.hubs.streamBufferCapacity, 10],
    ['IM_MAX_STREAMS_PER_INVOCATION', '2', (c) => c.hubs.maxStreamsPerInvocation, 2],
    ['IM_MAX_STREAMS_PER_INVOCATION', '0', (c) => c.hubs.maxStreamsPerInvocation, 0],
    ['IM_MAX_CLIENT_STREAMS_PER_CONNECTION', '4', (c) => c.hubs.maxClientStreamsPerConnection, 4],
    ['IM_MAX_STREAM_BUFFER_BYTES', '65536', (c) => c.hubs.maxStreamBufferBytes, 65536],
    ['IM_MAX_STREAM_BUFFER_BYTES_PER_NODE', '1048576', (c) => c.hubs.maxStreamBufferBytesPerNode, 1048576],
    ['IM_REQUEST_TIMEOUT_MS', '5000', (c) => c.hubs.requestTimeoutMs, 5000],
    ['IM_SHUTDOWN_TIMEOUT_MS', '30000', (c) => c.hubs.shutdownTimeoutMs, 30000],
    ['IM_CORS_ORIGINS', ' https://a.example , http://localhost:3000/,, ', (c) => c.corsOrigins, ['https://a.example', 'http://localhost:3000']],
    ['IM_CORS_ORIGINS', '*', (c) => c.corsOrigins, ['*']],
    ['IM_INTERNAL_PORT', '9090', (c) => c.internalPort, 9090],
    ['IM_INTERNAL_PORT', '0', (c) => c.internalPort, 0],
    ['IM_INTERNAL_HOST', '10.0.0.5', (c) => c.internalHost, '10.0.0.5'],
    ['IM_NODE_ID', 'node_A-1', (c) => c.nodeId, 'node_A-1'],
    ['IM_API_KEY', 'key', (c) => c.apiKey, 'key'],
    ['IM_HUBS_DIR', 'src/hubs', (c) => c.hubsDir, 'src/hubs'],
    ['IM_GENERATED_DIR', 'out', (c) => c.generatedDir, 'out'],
    ['IM_MAX_MESSAGE_SIZE', '65536', (c) => c.hubs.maximumReceiveMessageSize, 65536],
    ['IM_KEEP_ALIVE_MS', '5000', (c) => c.hubs.keepAliveIntervalMs, 5000],
    ['IM_CLIENT_TIMEOUT_MS', '60000', (c) => c.hubs.clientTimeoutMs, 60000],
    ['IM_HANDSHAKE_TIMEOUT_MS', '1000', (c) => c.hubs.handshakeTimeoutMs, 1000],
    ['IM_DISCONNECT_TIMEOUT_MS', '2000', (c) => c.hubs.disconnectTimeoutMs, 2000],
    ['IM_NEGOTIATION_TIMEOUT_MS', '3000', (c) => c.hubs.negotiationTimeoutMs, 3000],
    ['IM_LONG_POLL_IDLE_TIMEOUT_MS', '4000', (c) => c.hubs.longPollIdleTimeoutMs, 4000],
    ['IM_STATEFUL_RECONNECT_WINDOW_MS', '60000', (c) => c.hubs.statefulReconnectWindowMs, 60000],
    ['IM_RELAY_MARGIN_MS', '0', (c) => c.hubs.relayMarginMs, 0],
    ['IM_RELAY_MARGIN_MS', '2000', (c) => c.hubs.relayMarginMs, 2000],
    ['IM_DETAILED_ERRORS', 'true', (c) => c.hubs.enableDetailedErrors, true],
    ['IM_DETAILED_ERRORS', '1', (c) => c.hubs.enableDetailedErrors, true],
    ['IM_DETAILED_ERRORS', 'FALSE', (c) => c.hubs.enableDetailedErrors, false],
    ['IM_DETAILED_ERRORS', '0', (c) => c.hubs.enableDetailedErrors, false],
    ['IM_HUB_PATH_PREFIX', '/hubs/', (c) => c.hubs.pathPrefix, '/hubs'],
    ['IM_TRANSPORTS', ' LongPolling , WebSockets ', (c) => c.hubs.transports, ['WebSockets', 'LongPolling']],
    ['IM_PORT', '', (c) => c.port, 5000],
    ['IM_HUB_PATH_PREFIX', '/', (c) => c.hubs.pathPrefix, ''],
    ['IM_TOPIC_RULES', '[{"pattern":"public.>","watch":"anyone","publish":["authenticated"]}]', (c) => c.topics.rules, [{ pattern: 'public.>', watch: ['anyone'], publish: ['authenticated'] }]],
    ['IM_PRESENCE', 'false', (c) => c.presence.enabled, false],
    ['IM_PRESENCE_GATHER_TIMEOUT_MS', '250', (c) => c.presence.gatherTimeoutMs, 250],
    ['IM_PRESENCE_LEASE_MS', '500', (c) => c.presence.leaseMs, 500],
    ['IM_PRESENCE_OFFLINE_DELAY_MS', '0', (c) => c.presence.offlineDelayMs, 0],
    ['IM_TOPIC_AUTHORIZER', 'true', (c) => c.topics.authorizer.enabled, true],
    ['IM_TOPIC_AUTHORIZER_TIMEOUT_MS', '250', (c) => c.topics.authorizer.timeoutMs, 250],
    ['IM_TOPIC_AUTHORIZER_CACHE_TTL_MS', '0', (c) => c.topics.authorizer.cacheTtlMs, 0],
    ['IM_TOPIC_AUTHORIZER_CACHE_SIZE', '100', (c) => c.topics.authorizer.cacheSize, 100],
  ]

  // An empty variable counts as unset (IM_PORT="" keeps the default).
  it.each(cases)('%s=%j', (name, value, read, expected) => {
    expect(read(resolveConfig({}, { [name]: value }))).toEqual(expected)
  })

  it('gives the three waits the disconnect timeout, from the file or the environment, unless one is set on its own', () => {
    const waits = (c: ImConfig): number[] => [c.hubs.negotiationTimeoutMs, c.hubs.longPollIdleTimeoutMs, c.hubs.statefulReconnectWindowMs]
    expect(waits(resolveConfig({}, { IM_DISCONNECT_TIMEOUT_MS: '2000' }))).toEqual([2000, 2000, 2000])
    expect(waits(resolveConfig({ hubs: { disconnectTimeoutMs: 7000 } }, {}))).toEqual([7000, 7000, 7000])
    expect(waits(resolveConfig({ hubs: { disconnectTimeoutMs: 7000, longPollIdleTimeoutMs: 500 } }, { IM_STATEFUL_RECONNECT_WINDOW_MS: '60000' }))).toEqual([7000, 500, 60000])
  })

  it('reads the CAP headers switch and the envelope casing, the environment winning', () => {
    expect(resolveConfig({ nats: { capHeaders: false }, hubs: { envelopeCasing: 'pascal' } }, {})).toMatchObject({ nats: { capHeaders: false }, hubs: { envelopeCasing: 'pascal' } })
    expect(resolveConfig({ hubs: { envelopeCasing: 'pascal' } }, { IM_CAP_HEADERS: 'false', IM_ENVELOPE_CASING: 'camel' })).toMatchObject({ nats: { capHeaders: false }, hubs: { envelopeCasing: 'camel' } })
  })

  it('refuses an envelope casing other than camel or pascal', () => {
    expect(() => resolveConfig({}, { IM_ENVELOPE_CASING: 'Pascal' })).toThrow(
      expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining('IM_ENVELOPE_CASING must be one of camel, pascal, got "Pascal"') }),
    )
    expect(() => resolveConfig({}, { IM_CAP_HEADERS: 'maybe' })).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining('IM_CAP_HEADERS') }))
  })

  it('lets the environment win over the config file', () => {
    const config = resolveConfig({ port: 1, host: 'file', nats: { url: 'nats://file:4222' } }, { IM_PORT: '2', IM_HOST: 'env', IM_NATS_URL: 'nats://env:4222' })
    expect(config).toMatchObject({ port: 2, host: 'env', nats: { url: 'nats://env:4222', explicit: true } })
  })

  it('marks NATS explicit when the config file names it', () => {
    expect(resolveConfig({ nats: { url: 'nats://file:4222' } }, {}).nats.explicit).toBe(true)
    expect(resolveConfig({}, {}).nats.explicit).toBe(false)
  })

  it('reads NATS user and password together', () => {
    expect(resolveConfig({}, { IM_NATS_USER: 'u', IM_NATS_PASS: 'p' }).nats).toMatchObject({ user: 'u', pass: 'p' })
  })

  it('reads the NATS nkey seed, creds and TLS file paths from im.config.ts and the environment', () => {
    const env = { IM_NATS_NKEY_SEED_FILE: '/run/secrets/im.nk', IM_NATS_TLS_CA: '/ca.pem', IM_NATS_TLS_CERT: '/c.pem', IM_NATS_TLS_KEY: '/c.key' }
    expect(resolveConfig({}, env).nats).toMatchObject({ nkeySeedFile: '/run/secrets/im.nk', tls: { caFile: '/ca.pem', certFile: '/c.pem', keyFile: '/c.key' } })
    expect(resolveConfig({ nats: { credsFile: '/im.creds', tls: { caFile: '/ca.pem' } } }, {}).nats).toMatchObject({ credsFile: '/im.creds', tls: { caFile: '/ca.pem' } })
  })
})

describe('resolveConfig JWT', () => {
  it('leaves jwt undefined without a key source, even when other JWT settings are given', () => {
    expect(resolveConfig({}, { IM_USER_ID_CLAIM: 'uid', IM_JWT_CLOCK_TOLERANCE: '5' }).jwt).toBeUndefined()
  })

  it('builds jwt from a secret with defaults', () => {
    const secret = ' keep spaces: a secret of 32 bytes or more '
    expect(resolveConfig({}, { IM_JWT_SECRET: secret }).jwt).toEqual({ secret, userIdClaim: 'sub', clockToleranceSeconds: 30, closeOnExpiry: true })
  })

  it('reads every JWT variable', () => {
    const env = {
      IM_JWT_JWKS_URL: 'https://idp.example/.well-known/jwks.json',
      IM_JWT_ISSUER: 'https://idp.example',
      IM_JWT_AUDIENCE: 'im',
      IM_USER_ID_CLAIM: 'uid',
      IM_JWT_CLOCK_TOLERANCE: '0',
      IM_JWT_CLOSE_ON_EXPIRY: 'false',
    }
    expect(resolveConfig({}, env).jwt).toEqual({
      jwksUrl: 'https://idp.example/.well-known/jwks.json',
      issuer: 'https://idp.example',
      audience: 'im',
      userIdClaim: 'uid',
      clockToleranceSeconds: 0,
      closeOnExpiry: false,
    })
  })

  it('turns literal \\n sequences of IM_JWT_PUBLIC_KEY into newlines', () => {
    expect(resolveConfig({}, { IM_JWT_PUBLIC_KEY: PEM.replaceAll('\n', '\\n') }).jwt?.publicKey).toBe(PEM)
    expect(resolveConfig({}, { IM_JWT_PUBLIC_KEY: PEM }).jwt?.publicKey).toBe(PEM)
  })

  it('refuses two key sources in the same place', () => {
    expectInvalid({}, { IM_JWT_SECRET: 'x', IM_JWT_JWKS_URL: 'https://idp.example/jwks' }, 'only one JWT key source may be set (IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL), got IM_JWT_SECRET and IM_JWT_JWKS_URL')
    expectInvalid({ jwt: { secret: 'x', publicKey: PEM } }, {}, 'only one JWT key source may be set (IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL), got jwt.secret (IM_JWT_SECRET) and jwt.publicKey (IM_JWT_PUBLIC_KEY)')
  })

  it('lets a key source from the environment replace the one in the config file', () => {
    const jwt = resolveConfig({ jwt: { secret: 'dev', issuer: 'file-issuer' } }, { IM_JWT_JWKS_URL: 'https://idp.example/jwks' }).jwt
    expect(jwt).toEqual({ jwksUrl: 'https://idp.example/jwks', issuer: 'file-issuer', userIdClaim: 'sub', clockToleranceSeconds: 30, closeOnExpiry: true })
  })

  it('refuses an issuer or audience without a key, which would leave everyone anonymous', () => {
    expectInvalid({}, { IM_JWT_ISSUER: 'https://idp.example' }, 'IM_JWT_ISSUER is set but no JWT key is: set IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL')
    expectInvalid({ jwt: { audience: 'im' } }, {}, 'jwt.audience (IM_JWT_AUDIENCE) is set but no JWT key is: set IM_JWT_SECRET, IM_JWT_PUBLIC_KEY or IM_JWT_JWKS_URL')
  })
})

describe('resolveConfig validation', () => {
  const cases: ReadonlyArray<[ImConfigInput, Record<string, string>, string]> = [
    [{}, { IM_PORT: 'abc' }, 'IM_PORT must be an integer from 0 to 65535, got "abc"'],
    [{}, { IM_PORT: '65536' }, 'IM_PORT must be an integer from 0 to 65535, got "65536"'],
    [{}, { IM_PORT: '80.5' }, 'IM_PORT must be an integer from 0 to 65535, got "80.5"'],
    [{}, { IM_PORT: '1e3' }, 'IM_PORT must be an integer from 0 to 65535, got "1e3"'],
    [{ port: -1 }, {}, 'port (IM_PORT) must be an integer from 0 to 65535, got -1'],
    [{ port: '80' as unknown as number }, {}, 'port (IM_PORT) must be an integer from 0 to 65535, got "80"'],
    [{}, { IM_NODE_ID: 'a.b' }, 'IM_NODE_ID must match [A-Za-z0-9_-]+ (at most 64 characters), got "a.b"'],
    [{ nodeId: 'x>' }, {}, 'nodeId (IM_NODE_ID) must match [A-Za-z0-9_-]+ (at most 64 characters), got "x>"'],
    [{}, { IM_KEEP_ALIVE_MS: '30000' }, 'IM_CLIENT_TIMEOUT_MS (30000) must be greater than IM_KEEP_ALIVE_MS (30000)'],
    [{ hubs: { clientTimeoutMs: 1000 } }, {}, 'hubs.clientTimeoutMs (IM_CLIENT_TIMEOUT_MS) (1000) must be greater than IM_KEEP_ALIVE_MS (15000)'],
    [{}, { IM_KEEP_ALIVE_MS: '0' }, 'IM_KEEP_ALIVE_MS must be an integer from 1 to 2147483647, got "0"'],
    [{}, { IM_MAX_MESSAGE_SIZE: '-5' }, 'IM_MAX_MESSAGE_SIZE must be an integer from 1 to 67108864, got "-5"'],
    [{}, { IM_MAX_WATCHES_PER_CONNECTION: '0' }, 'IM_MAX_WATCHES_PER_CONNECTION must be an integer from 1 to 100000, got "0"'],
    [{}, { IM_CLIENT_RESULT_TIMEOUT_MS: '300001' }, 'IM_CLIENT_RESULT_TIMEOUT_MS must be an integer from 1 to 300000, got "300001"'],
    [{ hubs: { clientResultTimeoutMs: 0 } }, {}, 'hubs.clientResultTimeoutMs (IM_CLIENT_RESULT_TIMEOUT_MS) must be an integer from 1 to 300000, got 0'],
    [{ hubs: { maxWatchedSubjects: 0 } }, {}, 'hubs.maxWatchedSubjects (IM_MAX_WATCHED_SUBJECTS) must be an integer from 1 to 10000000, got 0'],
    [{ presence: { leaseMs: 50 } }, {}, 'presence.leaseMs (IM_PRESENCE_LEASE_MS) must be an integer from 100 to 3600000, got 50'],
    [{}, { IM_MAX_STREAMS_PER_INVOCATION: '1025' }, 'IM_MAX_STREAMS_PER_INVOCATION must be an integer from 0 to 1024, got "1025"'],
    [{}, { IM_MAX_CLIENT_STREAMS_PER_CONNECTION: '-1' }, 'IM_MAX_CLIENT_STREAMS_PER_CONNECTION must be an integer from 0 to 100000, got "-1"'],
    [{ hubs: { maxStreamBufferBytes: 100 } }, {}, 'hubs.maxStreamBufferBytes (IM_MAX_STREAM_BUFFER_BYTES) must be an integer from 1024 to 1073741824, got 100'],
    [{}, { IM_HANDSHAKE_TIMEOUT_MS: 'soon' }, 'IM_HANDSHAKE_TIMEOUT_MS must be an integer from 1 to 2147483647, got "soon"'],
    [{}, { IM_DISCONNECT_TIMEOUT_MS: '99999999999' }, 'IM_DISCONNECT_TIMEOUT_MS must be an integer from 1 to 2147483647, got "99999999999"'],
    [{}, { IM_DETAILED_ERRORS: 'yes' }, 'IM_DETAILED_ERRORS must be true, false, 1 or 0, got "yes"'],
    [{ hubs: { enableDetailedErrors: 'true' as unknown as boolean } }, {}, 'hubs.enableDetailedErrors (IM_DETAILED_ERRORS) must be true, false, 1 or 0, got "true"'],
    [{}, { IM_HUB_PATH_PREFIX: 'hubs' }, 'IM_HUB_PATH_PREFIX must be empty or a path like /signalr-hubs, got "hubs"'],
    [{}, { IM_CORS_ORIGINS: 'https://a.example/app' }, 'IM_CORS_ORIGINS entries must be origins like https://app.example.com, got "https://a.example/app"'],
    [{}, { IM_CORS_ORIGINS: 'a.example' }, 'IM_CORS_ORIGINS entries must be origins like https://app.example.com, got "a.example"'],
    [{ corsOrigins: 'https://a.example' as unknown as string[] }, {}, 'corsOrigins (IM_CORS_ORIGINS) must be a list of strings, got "https://a.example"'],
    [{}, { IM_CORS_ORIGINS: 'https://a.example,*' }, 'IM_CORS_ORIGINS must be "*" alone or a list of origins, got "https://a.example,*"'],
    [{}, { IM_INTERNAL_PORT: '65536' }, 'IM_INTERNAL_PORT must be an integer from 0 to 65535, got "65536"'],
    [{ internalHost: '' }, {}, 'internalHost (IM_INTERNAL_HOST) must be a non-empty string, got ""'],
    [{}, { IM_JWT_CLOCK_TOLERANCE: '-1', IM_JWT_SECRET: SECRET }, 'IM_JWT_CLOCK_TOLERANCE must be an integer from 0 to 3600, got "-1"'],
    [{}, { IM_JWT_JWKS_URL: 'idp.example/jwks' }, 'IM_JWT_JWKS_URL must be an http(s) URL, got "idp.example/jwks"'],
    [{}, { IM_JWT_PUBLIC_KEY: 'ssh-rsa AAAA' }, 'IM_JWT_PUBLIC_KEY must be a PEM public key (-----BEGIN PUBLIC KEY----- ... -----END PUBLIC KEY-----)'],
    [{}, { IM_NATS_URL: 'nats://user:hunter2@a:4222, ,nats://b' }, 'IM_NATS_URL must be one or more comma separated server URLs, got "nats://user:***@a:4222, ,nats://b"'],
    [{}, { IM_NATS_USER: 'u' }, 'IM_NATS_USER and IM_NATS_PASS (nats.user, nats.pass) must be set together'],
    [{}, { IM_NATS_TLS_CERT: '/c.pem' }, 'IM_NATS_TLS_CERT and IM_NATS_TLS_KEY (nats.tls.certFile, nats.tls.keyFile) must be set together'],
    [{ nats: { tls: { keyFile: '/c.key' } } }, {}, 'IM_NATS_TLS_CERT and IM_NATS_TLS_KEY (nats.tls.certFile, nats.tls.keyFile) must be set together'],
    [
      {},
      { IM_NATS_CREDS_FILE: '/im.creds', IM_NATS_NKEY_SEED_FILE: '/im.nk' },
      'IM_NATS_CREDS_FILE and IM_NATS_NKEY_SEED_FILE (nats.credsFile, nats.nkeySeedFile) exclude each other: a .creds file carries its own seed',
    ],
    [{ host: '  ' }, {}, 'host (IM_HOST) must be a non-empty string, got "  "'],
    [{}, { IM_TRANSPORTS: 'WebSockets,websockets' }, 'IM_TRANSPORTS must name one or more of WebSockets, ServerSentEvents, LongPolling, got "websockets"'],
    [{}, { IM_TRANSPORTS: ',' }, 'IM_TRANSPORTS must name one or more of WebSockets, ServerSentEvents, LongPolling, got ""'],
    [{ hubs: { transports: [] } }, {}, 'hubs.transports (IM_TRANSPORTS) must name one or more of WebSockets, ServerSentEvents, LongPolling, got ""'],
    [{ hubs: { transports: 'LongPolling' as unknown as [] } }, {}, 'hubs.transports (IM_TRANSPORTS) must be a list of strings, got "LongPolling"'],
  ]

  it.each(cases)('%j %j -> %s', (input, env, message) => {
    expectInvalid(input, env, message)
  })

  it('never echoes a secret', () => {
    const secretCases: ReadonlyArray<ImConfigInput> = [
      { apiKey: 12345 as unknown as string },
      { jwt: { secret: ['hunter2'] as unknown as string } },
      { nats: { token: { t: 'hunter2' } as unknown as string } },
      { nats: { user: 'u', pass: 987654 as unknown as string } },
    ]
    for (const input of secretCases) {
      let message = ''
      try {
        resolveConfig(input, {})
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(/must be a non-empty string$/)
      expect(message).not.toMatch(/hunter2|12345|987654/)
    }
  })
})

describe('describeConfig', () => {
  it('shows that secrets are set without showing them', () => {
    const config = resolveConfig(
      { nodeId: 'n1' },
      { IM_JWT_SECRET: 'jwt-secret-value-long-enough-for-hs256', IM_API_KEY: 'api-key-value', IM_NATS_URL: 'nats://me:nats-pass@nats:4222', IM_NATS_TOKEN: 'nats-token-value' },
    )
    const text = describeConfig(config).join('\n')
    expect(text).toContain('node id: n1')
    expect(text).toContain('nats: nats://me:***@nats:4222 (explicit), token set')
    expect(text).toContain('auth: JWT (HS256 secret set), any issuer, any audience, user id claim "sub", clock tolerance 30 s')
    expect(text).toContain('api key: set')
    expect(text).not.toMatch(/jwt-secret-value|api-key-value|nats-pass|nats-token-value/)
  })

  it('describes the defaults', () => {
    expect(describeConfig(resolveConfig({ nodeId: 'n1' }, {}))).toEqual([
      'node id: n1',
      'listening on: 0.0.0.0:5000',
      'nats: nats://127.0.0.1:4222 (default)',
      'auth: none, every connection is anonymous',
      'cors origins: none (cross-origin browser requests are refused; set IM_CORS_ORIGINS)',
      'api key: not set',
      'internal listener: off',
      'hubs: hubs at /signalr-hubs, generated code in generated',
      'limits: message 32768 B, keep-alive 15000 ms, client timeout 30000 ms, handshake 15000 ms, disconnect 15000 ms, detailed errors off',
      'topics: default rules (no JWT): > watch anyone publish anyone; authorizer off, unmatched topics refused',
    ])
  })

  it('names each of the three waits once one is parted from the disconnect timeout', () => {
    expect(describeConfig(resolveConfig({}, { IM_STATEFUL_RECONNECT_WINDOW_MS: '60000' }))).toContain(
      'limits: message 32768 B, keep-alive 15000 ms, client timeout 30000 ms, handshake 15000 ms, negotiation 15000 ms, long-poll idle 15000 ms, reconnect window 60000 ms, detailed errors off',
    )
  })

  it('lists the topic rules in effect and the authorizer', () => {
    expect(describeConfig(resolveConfig({}, { IM_JWT_SECRET: 'jwt-secret-value-long-enough-for-hs256' }))).toContain(
      'topics: default rules (JWT): public.> watch anyone publish authenticated; user.{userId}.> watch owner publish authenticated; ' +
        '> watch nobody publish authenticated; authorizer off, unmatched topics refused',
    )
    const rules = [{ pattern: 'ops.{userId}', watch: ['owner', { roles: ['admin', 'ops'] }], publish: 'authorizer' }] as const
    const configured = resolveConfig({ topics: { rules, authorizer: { enabled: true } } }, {})
    expect(describeConfig(configured)).toContain(
      'topics: configured rules: ops.{userId} watch owner,roles admin|ops publish authorizer; authorizer on (timeout 1000 ms, cache 30000 ms x 10000)',
    )
  })

  it('describes an origin list, any origin and the internal listener', () => {
    expect(describeConfig(resolveConfig({}, { IM_CORS_ORIGINS: '*', IM_INTERNAL_PORT: '9090' }))).toEqual(
      expect.arrayContaining(['cors origins: any, without credentials', 'internal listener: 127.0.0.1:9090 (/healthz, /metrics, /api/publish)']),
    )
    expect(describeConfig(resolveConfig({ corsOrigins: ['https://a.example', 'http://localhost:3000'] }, {}))).toContain('cors origins: https://a.example, http://localhost:3000')
  })

  it('hides a token given as URL user info', () => {
    expect(describeConfig(resolveConfig({}, { IM_NATS_URL: 'nats://s3cr3t-token@a:4222,nats://b:4222' }))).toContain('nats: nats://***@a:4222,nats://b:4222 (explicit)')
  })

  it('shows a JWKS URL without its query string', () => {
    const config = resolveConfig({}, { IM_JWT_JWKS_URL: 'https://idp.example/jwks?key=abc' })
    expect(describeConfig(config)).toContain('auth: JWT (JWKS https://idp.example/jwks), any issuer, any audience, user id claim "sub", clock tolerance 30 s')
  })
})
