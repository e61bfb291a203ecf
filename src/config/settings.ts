/**
 * THE settings table: every setting of a node, once. It drives the resolver (`resolveConfig`), the
 * refusal of unknown names (IM_* variables and im.config.ts keys) and the settings table of
 * docs/configuration.md (`npm run docs:config` writes it; a test fails when it is stale).
 *
 * To add a setting:
 *   1. give it a typed, documented field in config.ts (the compiler then asks for the row below);
 *   2. add ONE row here, in the group where it belongs: `setting('hubs.fooMs', { env: 'IM_FOO_MS',
 *      kind: integer(1, MAX_TIMER_MS), default: 1000, doc: '...' })`; the kind carries type and bounds;
 *   3. run `npm run docs:config`, and add a line to test/unit/config/load-config.test.ts.
 * Rules between settings (one greater than another, two set together) live in load-config.ts.
 */
import { MAX_CLIENT_RESULT_TIMEOUT_MS } from './config.js'
import { DEFAULT_NATS_URL, defaultNodeId } from './defaults.js'
import { HUB_TRANSPORTS, origins, pathPrefix, transports } from './http-setting-kinds.js'
import { natsUrls } from './nats-urls.js'
import { DEFAULT_STREAM_SUBJECTS, kvBucketName, streamName, streamReplicas, subjectList } from './resolve-jetstream-config.js'
import { hs256Secret, httpUrl, pemPublicKey } from './resolve-jwt-config.js'
import { defaultTopicRules, topicRules } from './resolve-topics-config.js'
import { flag, integer, matching, oneOf, secret, text, type EarlierSettings } from './setting-kinds.js'
import { setting, type EnvironmentOnlySetting, type SettingKey } from './setting.js'

// setTimeout stores its delay in a signed 32-bit integer; larger values fire at once.
const MAX_TIMER_MS = 2_147_483_647
const PORT = integer(0, 65_535)
const KB = 1024
const MB = 1024 * 1024
const GB = 1024 * MB
// JetStream takes durations in nanoseconds as 64-bit integers; this keeps them exact in a double.
const MAX_JETSTREAM_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1_000_000)
const HOUR_MS = 3_600_000
const JWT_KEY = 'JWT key source'
const DISCONNECT_TIMEOUT = (earlier: EarlierSettings): number => earlier.valueOf('hubs.disconnectTimeoutMs') as number

export const SETTINGS = [
  setting('port', { env: 'IM_PORT', kind: PORT, default: 5000, doc: 'HTTP port (0 picks a free one)' }),
  setting('host', { env: 'IM_HOST', kind: text(), default: '0.0.0.0', doc: 'address to listen on' }),
  setting('nodeId', {
    env: 'IM_NODE_ID',
    kind: matching(/^[A-Za-z0-9_-]{1,64}$/, 'match [A-Za-z0-9_-]+ (at most 64 characters)', '`[A-Za-z0-9_-]`, at most 64'),
    default: () => defaultNodeId(),
    defaultText: 'host name + 4 random hex digits',
    doc: 'names this node in envelopes and events; set it to a stable value per node so a restarted node resumes its JetStream consumer',
  }),
  setting('nats.url', { env: 'IM_NATS_URL', kind: natsUrls(), default: DEFAULT_NATS_URL, doc: 'one or more NATS servers, comma separated; credentials in the URL are used and never shown. A bare `host:port` means `nats://host:port`; see [NATS server URLs](#nats-server-urls)' }),
  setting('nats.token', { env: 'IM_NATS_TOKEN', kind: secret(), doc: 'NATS token authentication' }),
  setting('nats.user', { env: 'IM_NATS_USER', kind: text(), doc: 'NATS user name; set together with `nats.pass`' }),
  setting('nats.pass', { env: 'IM_NATS_PASS', kind: secret(), doc: 'NATS password; set together with `nats.user`' }),
  setting('nats.nkeySeedFile', { env: 'IM_NATS_NKEY_SEED_FILE', kind: text(), doc: 'file holding the NATS user nkey seed (`SU...`); read at start, never shown. A file rather than a variable: a seed in the environment shows in process listings and `docker inspect`' }),
  setting('nats.credsFile', { env: 'IM_NATS_CREDS_FILE', kind: text(), doc: 'NATS `.creds` file (user JWT and nkey seed, as `nsc` writes it); read at start, never shown. Excludes `nats.nkeySeedFile`' }),
  setting('nats.tls.caFile', { env: 'IM_NATS_TLS_CA', kind: text(), defaultText: "(the system's CAs)", doc: 'PEM CA certificate(s) the NATS servers are checked against; any `nats.tls.*` file makes the node speak only TLS to NATS' }),
  setting('nats.tls.certFile', { env: 'IM_NATS_TLS_CERT', kind: text(), doc: "PEM client certificate for mutual TLS to NATS; set together with `nats.tls.keyFile`" }),
  setting('nats.tls.keyFile', { env: 'IM_NATS_TLS_KEY', kind: text(), doc: 'PEM private key of `nats.tls.certFile`; read at start, never shown' }),
  setting('nats.reconnectWaitMs', { env: 'IM_NATS_RECONNECT_WAIT_MS', kind: integer(50, 60_000), default: 2000, doc: 'pause between reconnect attempts after NATS was lost; shorter narrows the window after NATS is back in which core NATS messages reach no node. While NATS stays unreachable the node logs a warning at least every 10 s with the next attempt\'s time' }),
  setting('nats.capHeaders', { env: 'IM_CAP_HEADERS', kind: flag(), default: true, doc: 'write DotNetCore.CAP\'s headers (`cap-msg-id` and its companions, never `cap-msg-group`) on forwarded envelopes, hub publishes and lifecycle events, which CAP\'s NATS subscribers need (without `cap-msg-id` they refuse a message and it is redelivered forever); on by default because headers cost a few bytes and other consumers ignore them; see [CAP subscribers](service-api.md#cap-subscribers)' }),
  setting('jwt.secret', { env: 'IM_JWT_SECRET', kind: hs256Secret(), alternatives: JWT_KEY, doc: 'HS256 shared secret; shorter than 32 bytes is refused (RFC 7518 §3.2)' }),
  setting('jwt.publicKey', { env: 'IM_JWT_PUBLIC_KEY', kind: pemPublicKey(), alternatives: JWT_KEY, doc: 'PEM public key (RSA, RSA-PSS, EC, Ed25519); `\\n` sequences become newlines' }),
  setting('jwt.jwksUrl', { env: 'IM_JWT_JWKS_URL', kind: httpUrl(), alternatives: JWT_KEY, doc: 'JWKS endpoint (5 s timeout, 30 s cooldown, 10 min cache)' }),
  setting('jwt.issuer', { env: 'IM_JWT_ISSUER', kind: text(), defaultText: 'any', doc: 'required `iss`' }),
  setting('jwt.audience', { env: 'IM_JWT_AUDIENCE', kind: text(), defaultText: 'any', doc: 'required `aud`' }),
  setting('jwt.userIdClaim', { env: 'IM_USER_ID_CLAIM', kind: text(), default: 'sub', doc: 'claim that holds the user id; with `sub`, the .NET name-identifier claim is the fallback' }),
  setting('jwt.clockToleranceSeconds', { env: 'IM_JWT_CLOCK_TOLERANCE', kind: integer(0, 3600), default: 30, doc: 'allowed clock skew for `exp` and `nbf`, in seconds' }),
  setting('jwt.closeOnExpiry', { env: 'IM_JWT_CLOSE_ON_EXPIRY', kind: flag(), default: true, doc: 'close a connection when its token expires, with `allowReconnect`, so the client reconnects with a fresh token' }),
  setting('corsOrigins', { env: 'IM_CORS_ORIGINS', kind: origins(), default: [], defaultText: '(none)', doc: 'browser origins allowed to negotiate, stream, poll and open WebSockets from another origin, comma separated (`https://app.example.com`); `*` alone allows any origin without credentials. Unset: cross-origin browser requests are refused, see [Cross-origin access](#cross-origin-access)' }),
  setting('apiKey', { env: 'IM_API_KEY', kind: secret(), doc: 'the key `POST /api/publish` callers send in `X-Api-Key`; required for every publish on a listener other machines can reach' }),
  setting('internalPort', { env: 'IM_INTERNAL_PORT', kind: PORT, defaultText: '(off)', doc: 'a second listener serving only `/healthz`, `/healthz/live`, `/healthz/ready`, `/metrics` and `/api/publish` (0 picks a free port); when set, the public port no longer serves `/metrics` and `/api/publish`' }),
  setting('internalHost', { env: 'IM_INTERNAL_HOST', kind: text(), default: '127.0.0.1', doc: 'address of the internal listener' }),
  setting('hubsDir', { env: 'IM_HUBS_DIR', kind: text(), default: 'hubs', doc: 'folder with the hub classes' }),
  setting('generatedDir', { env: 'IM_GENERATED_DIR', kind: text(), default: 'generated', doc: 'folder `im generate` writes to' }),
  setting('hubs.pathPrefix', { env: 'IM_HUB_PATH_PREFIX', kind: pathPrefix(), default: '/signalr-hubs', doc: 'hub routes are `<prefix>/<hub name>` unless a hub sets its path' }),
  setting('hubs.maximumReceiveMessageSize', { env: 'IM_MAX_MESSAGE_SIZE', kind: integer(1, 64 * MB), default: 32 * KB, doc: "largest incoming hub message in bytes (ASP.NET Core's default)" }),
  setting('hubs.keepAliveIntervalMs', { env: 'IM_KEEP_ALIVE_MS', kind: integer(1, MAX_TIMER_MS), default: 15_000, doc: 'server ping interval' }),
  setting('hubs.clientTimeoutMs', { env: 'IM_CLIENT_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: 30_000, doc: 'close a client silent this long; must exceed the keep-alive interval' }),
  setting('hubs.handshakeTimeoutMs', { env: 'IM_HANDSHAKE_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: 15_000, doc: 'time allowed for the SignalR handshake' }),
  // One default for three waits, under ASP.NET Core's name for its one idle timeout, so that a
  // configuration written for it keeps working; each wait has its own setting to part it.
  setting('hubs.disconnectTimeoutMs', { env: 'IM_DISCONNECT_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: 15_000, doc: 'the default of `hubs.negotiationTimeoutMs`, `hubs.longPollIdleTimeoutMs` and `hubs.statefulReconnectWindowMs` (ASP.NET Core\'s DisconnectTimeout, its one idle timeout); set one of those to part it from the others' }),
  setting('hubs.negotiationTimeoutMs', { env: 'IM_NEGOTIATION_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: DISCONNECT_TIMEOUT, defaultText: '`hubs.disconnectTimeoutMs`', doc: 'a negotiated connection whose transport is not opened within this time is forgotten: its token opens nothing any more' }),
  setting('hubs.longPollIdleTimeoutMs', { env: 'IM_LONG_POLL_IDLE_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: DISCONNECT_TIMEOUT, defaultText: '`hubs.disconnectTimeoutMs`', doc: 'a long-polling client that sends no poll for this long has left: its connection ends' }),
  setting('hubs.statefulReconnectWindowMs', { env: 'IM_STATEFUL_RECONNECT_WINDOW_MS', kind: integer(1, MAX_TIMER_MS), default: DISCONNECT_TIMEOUT, defaultText: '`hubs.disconnectTimeoutMs`', doc: 'how long a stateful-reconnect connection whose transport was lost (a network cut, a node draining) keeps its buffer and waits for its client to come back, to this node or another; past it the connection ends' }),
  setting('hubs.maxInvocationsPerSecond', { env: 'IM_MAX_INVOCATIONS_PER_SECOND', kind: integer(1, 1_000_000), default: 50, doc: 'per-connection token bucket, average rate; a call over it fails with `HubException: Too many invocations...`' }),
  setting('hubs.invocationBurst', { env: 'IM_INVOCATION_BURST', kind: integer(1, 1_000_000), default: 100, doc: 'per-connection token bucket, burst' }),
  setting('hubs.maxQueuedInvocations', { env: 'IM_MAX_QUEUED_INVOCATIONS', kind: integer(0, 100_000), default: 32, doc: 'calls that may wait behind the running one on a connection (they run one at a time, as in ASP.NET Core)' }),
  setting('hubs.maxParallelInvocationsPerClient', { env: 'IM_MAX_PARALLEL_INVOCATIONS', kind: integer(1, 1024), default: 1, doc: "invocations of one connection that run at once (ASP.NET Core's MaximumParallelInvocationsPerClient); more wait in the queue above" }),
  setting('hubs.clientResultTimeoutMs', { env: 'IM_CLIENT_RESULT_TIMEOUT_MS', kind: integer(1, MAX_CLIENT_RESULT_TIMEOUT_MS), default: 30_000, doc: "how long a client result may take: hub code's `this.clients.client(id).invoke(...)` without its own `timeoutMs`, and a service's request to `im.<hub>.invoke.client` without `timeoutMs`; past it the asker gets `IM_CLIENT_RESULT_TIMEOUT` (a service a `timeout` reply); see [hubs.md](hubs.md#client-results-from-hub-code)" }),
  setting('hubs.streamBufferCapacity', { env: 'IM_STREAM_BUFFER_CAPACITY', kind: integer(1, 1_000_000), default: 100, doc: 'items a client-to-server stream holds before the hub method reads them; at the bound the server stops reading the connection until the method takes items (a stream whose method still waits in the queue is dropped instead)' }),
  setting('hubs.maxStreamsPerInvocation', { env: 'IM_MAX_STREAMS_PER_INVOCATION', kind: integer(0, 1024), default: 8, doc: 'client-to-server streams (`streamIds`) one invocation may carry; more fail with `HubException: Client sent N stream(s); at most 8 are allowed per invocation.`' }),
  setting('hubs.maxClientStreamsPerConnection', { env: 'IM_MAX_CLIENT_STREAMS_PER_CONNECTION', kind: integer(0, 100_000), default: 32, doc: 'client-to-server streams open at once on one connection, those of queued invocations included; more fail with `HubException: Too many client streams...`' }),
  setting('hubs.maxStreamBufferBytes', { env: 'IM_MAX_STREAM_BUFFER_BYTES', kind: integer(KB, GB), default: MB, doc: 'bytes the client-to-server streams of one connection hold together (each item counted by its frame); at the bound the server stops reading the connection, and closes it if no hub method takes an item within `IM_CLIENT_TIMEOUT_MS`' }),
  setting('hubs.maxStreamBufferBytesPerNode', { env: 'IM_MAX_STREAM_BUFFER_BYTES_PER_NODE', kind: integer(KB, 64 * GB), default: 64 * MB, doc: 'bytes the client-to-server streams of all connections of the node hold together; past it a connection is read only once its hub methods have taken what it holds, so each adds at most one read' }),
  setting('hubs.maxConnectionsPerUser', { env: 'IM_MAX_CONNECTIONS_PER_USER', kind: integer(1, 10_000_000), default: 100, doc: 'per node; more get `429` at negotiate or transport open' }),
  setting('hubs.maxConnectionsPerAddress', { env: 'IM_MAX_CONNECTIONS_PER_ADDRESS', kind: integer(1, 10_000_000), default: 1000, doc: "per node and client IP address (the socket's; no proxy header is trusted)" }),
  setting('hubs.maxBufferedBytes', { env: 'IM_MAX_BUFFERED_BYTES', kind: integer(KB, GB), default: MB, doc: 'a client that leaves more than this many bytes unread is closed with a Close error (it may reconnect)' }),
  setting('hubs.maxBufferedMessages', { env: 'IM_MAX_BUFFERED_MESSAGES', kind: integer(1, 10_000_000), default: 10_000, doc: 'the same bound in messages, for long polling, whose queue IMService keeps itself' }),
  setting('hubs.allowStatefulReconnects', { env: 'IM_STATEFUL_RECONNECT', kind: flag(), default: true, doc: 'offer stateful reconnect to clients built with `withStatefulReconnect()`' }),
  setting('hubs.statefulReconnectBufferSize', { env: 'IM_STATEFUL_RECONNECT_BUFFER', kind: integer(1, 64 * MB), default: 100_000, doc: 'unacknowledged bytes kept per connection; past it the connection closes (clients reconnect)' }),
  setting('hubs.transports', { env: 'IM_TRANSPORTS', kind: transports(), default: HUB_TRANSPORTS, doc: 'transports of every hub that names none in `@Hub({ transports })` (ASP.NET Core\'s `HttpConnectionDispatcherOptions.Transports`), exactly as spelled, comma separated; see [Transports and the request of a connection](#transports-and-the-request-of-a-connection)' }),
  setting('hubs.longPollTimeoutMs', { env: 'IM_LONG_POLL_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: 90_000, doc: 'how long a long poll waits for data before an empty answer' }),
  setting('hubs.relayMarginMs', { env: 'IM_RELAY_MARGIN_MS', kind: integer(0, 600_000), default: 5000, doc: "what a request passed to the node holding a connection (no sticky sessions, client results) may take beyond its own wait: a NATS round trip and the other node's work. A relayed long poll is given up after `hubs.longPollTimeoutMs` plus this; hub code's client result asked of a connection on another node after its timeout plus this" }),
  setting('hubs.enableDetailedErrors', { env: 'IM_DETAILED_ERRORS', kind: flag(), default: false, doc: "add exception type and message to Completion errors (ASP.NET Core's EnableDetailedErrors)" }),
  setting('hubs.envelopeCasing', { env: 'IM_ENVELOPE_CASING', kind: oneOf(['camel', 'pascal'] as const), default: 'camel', doc: 'property names of forwarded envelopes and lifecycle events: `camel` (`connectionId`) or `pascal` (`ConnectionId`, which typed C# records bind under System.Text.Json\'s default case-sensitive options, as CAP uses); arguments are sent as the client sent them; see [CAP subscribers](service-api.md#cap-subscribers)' }),
  setting('hubs.maxServicePayloadSize', { env: 'IM_MAX_SERVICE_PAYLOAD_SIZE', kind: integer(KB, 64 * MB), default: MB, doc: 'largest payload taken from NATS (or `POST /api/publish`) for delivery; a larger one is dropped, logged and counted in `im_bus_payloads_dropped_total`' }),
  setting('hubs.requestTimeoutMs', { env: 'IM_REQUEST_TIMEOUT_MS', kind: integer(100, MAX_TIMER_MS), default: 30_000, doc: 'time a client has to send a whole HTTP request (negotiate, a long-polling POST); its headers must come within the smaller of this and 10 s; past it `408` and the socket is closed' }),
  setting('hubs.maxGroupsPerConnection', { env: 'IM_MAX_GROUPS_PER_CONNECTION', kind: integer(1, 1_000_000), default: 128, doc: 'groups one connection may be in; a join past it fails with `IM_LIMIT_EXCEEDED` naming the connection' }),
  setting('hubs.maxWatchesPerConnection', { env: 'IM_MAX_WATCHES_PER_CONNECTION', kind: integer(1, 100_000), default: 64, doc: "watches (DefaultHub's `watch`, `this.bus.watch` in hub code) one connection holds open at once; one more fails with `HubException: Too many watches on this connection: at most 64 may be open at once.` until another ends; counted in `im_watches_refused_connection_limit_total`" }),
  setting('hubs.maxWatchedSubjects', { env: 'IM_MAX_WATCHED_SUBJECTS', kind: integer(1, 10_000_000), default: 100_000, doc: 'distinct subjects one node watches at once, over all connections; watchers of a subject share one NATS subscription, so this bounds the subscriptions held for watches; a watch of one more subject fails with `HubException: Too many subjects are watched on this node: at most N.`, counted in `im_watches_refused_node_limit_total`' }),
  setting('hubs.shutdownTimeoutMs', { env: 'IM_SHUTDOWN_TIMEOUT_MS', kind: integer(0, MAX_TIMER_MS), default: 5000, doc: 'on SIGTERM, how long the node waits for queued messages to go out and stateful-reconnect clients to move to another node' }),
  setting('jetstream.forward', { env: 'IM_JETSTREAM_FORWARD', kind: subjectList(), default: [], defaultText: '', doc: 'subjects (wildcards allowed) whose forwarded client invocations go through JetStream and complete after the stream stored them; see [Durability with JetStream](service-api.md#durability-with-jetstream)' }),
  setting('jetstream.stream', { env: 'IM_JETSTREAM_STREAM', kind: streamName(), defaultText: '(off)', doc: 'stream created or verified at start, from which `jetstream.subjects` are taken instead of core NATS; when it is missing and another stream (e.g. one made by DotNetCore.CAP subscribers) holds all of those subjects, that stream is read as it is, and when another holds only some, the node does not start (`IM_STREAM_CONFLICT`, see [.NET services](dotnet.md#an-im-stream-made-by-cap-subscribers))' }),
  setting('jetstream.subjects', { env: 'IM_JETSTREAM_SUBJECTS', kind: subjectList(), default: Object.freeze([...DEFAULT_STREAM_SUBJECTS]), doc: 'subjects of that stream' }),
  setting('jetstream.publishTimeoutMs', { env: 'IM_JETSTREAM_PUBLISH_TIMEOUT_MS', kind: integer(1, MAX_TIMER_MS), default: 5000, doc: "wait for the stream's acknowledgement of a durable forward" }),
  // The server refuses a duplicate window under 100 ms or longer than the stream's max age.
  setting('jetstream.duplicateWindowMs', { env: 'IM_JETSTREAM_DUPLICATE_WINDOW_MS', kind: integer(100, MAX_TIMER_MS), default: 300_000, doc: 'duplicate window of a stream IMService creates, and how long a node remembers message ids; 5 minutes so that a publisher retrying after DotNetCore.CAP\'s first scheduled retry (about 4 minutes after a failure) is still deduplicated' }),
  setting('jetstream.maxAgeMs', { env: 'IM_JETSTREAM_MAX_AGE_MS', kind: integer(1000, MAX_JETSTREAM_MS), default: HOUR_MS, doc: 'how long a stream IMService creates keeps messages' }),
  setting('jetstream.consumerInactiveMs', { env: 'IM_JETSTREAM_CONSUMER_INACTIVE_MS', kind: integer(1000, MAX_JETSTREAM_MS), default: HOUR_MS, doc: "the server deletes a node's consumer unread this long" }),
  setting('jetstream.replicas', { env: 'IM_JETSTREAM_REPLICAS', kind: streamReplicas(), default: 'auto', doc: 'replicas of a stream IMService creates (an existing stream is not changed); `auto`: 3 when the NATS cluster reports 3 or more servers (the `connect_urls` of its INFO), else 1; the choice is logged at start. see [reliability.md](reliability.md#a-nats-server-of-a-cluster-is-lost)' }),
  setting('jetstream.pullExpiresMs', { env: 'IM_JETSTREAM_PULL_EXPIRES_MS', kind: integer(1000, 60_000), default: 5000, doc: "life of one pull request of a node's consumer; a pull lost with its server is replaced after at most this long" }),
  setting('jetstream.heartbeatMs', { env: 'IM_JETSTREAM_HEARTBEAT_MS', kind: integer(500, 30_000), default: 1000, doc: "idle heartbeat the server sends on a node's pending pull; with neither a message nor a heartbeat for 2.5 of these the consumer counts as stalled: the node takes the stream's subjects from core NATS (deduplicated) and makes the consumer again, with backoff from 250 ms to 5 s; at most half of `jetstream.pullExpiresMs`" }),
  setting('jetstream.offline.enabled', { env: 'IM_OFFLINE_DELIVERY', kind: flag(), default: false, doc: 'keep `"durable": true` messages of `im.<hub>.send.user` for users with no connection and deliver them, once and in order, when the user next connects to that hub; serves each hub that handles its `im.<hub>.send.user` and whose subject `jetstream.subjects` holds (the default subjects hold the DefaultHub\'s); see [Offline delivery](reliability.md#offline-delivery)' }),
  setting('jetstream.offline.ttlMs', { env: 'IM_OFFLINE_TTL_MS', kind: integer(1000, MAX_JETSTREAM_MS), default: 7 * 24 * HOUR_MS, doc: 'how long a kept message waits for its user' }),
  setting('jetstream.offline.maxPerUser', { env: 'IM_OFFLINE_MAX_PER_USER', kind: integer(1, 1_000_000), default: 1000, doc: 'messages kept per user; one more drops the oldest' }),
  setting('jetstream.offline.stream', { env: 'IM_OFFLINE_STREAM', kind: streamName(), default: 'IM_OFFLINE', doc: 'stream IMService creates to keep them (subjects `im.<hub>.offline.>`, one per hub served)' }),
  setting('jetstream.offline.cursorBucket', { env: 'IM_OFFLINE_CURSOR_BUCKET', kind: kvBucketName(), default: 'im-offline-cursors', doc: 'KV bucket IMService creates for the per-user delivery cursors' }),
  setting('presence.enabled', { env: 'IM_PRESENCE', kind: flag(), default: true, doc: 'serve presence on every hub: the `im.<hub>.presence.*` requests, `im.<hub>.disconnect`, and the `im.<hub>.user.online` / `.offline` events (these need JetStream); a connect never waits on NATS for presence; see [presence.md](presence.md)' }),
  setting('presence.gatherTimeoutMs', { env: 'IM_PRESENCE_GATHER_TIMEOUT_MS', kind: integer(10, 60_000), default: 500, doc: 'how long a presence request waits for the answers of the other nodes alive; past it the answer holds the nodes that answered' }),
  setting('presence.leaseMs', { env: 'IM_PRESENCE_LEASE_MS', kind: integer(100, 3_600_000), default: 2000, doc: "heartbeat interval of a node; a node silent for 3 intervals counts as gone and its users go offline, within about 4 intervals of a crash" }),
  setting('presence.offlineDelayMs', { env: 'IM_PRESENCE_OFFLINE_DELAY_MS', kind: integer(0, 60_000), default: 1000, doc: "how long after a user's last connection closes `im.<hub>.user.offline` is published; a reload or reconnect within it publishes nothing and costs no write (0: at once)" }),
  // The authorizer comes before the rules: a rule saying 'authorizer' needs it on.
  setting('topics.authorizer.enabled', { env: 'IM_TOPIC_AUTHORIZER', kind: flag(), default: false, doc: 'ask the authorizer service on `im.<hub>.authorize` for rules that say `authorizer` and for topics no rule matches' }),
  setting('topics.authorizer.timeoutMs', { env: 'IM_TOPIC_AUTHORIZER_TIMEOUT_MS', kind: integer(10, 60_000), default: 1000, doc: 'wait for its answer; no answer refuses' }),
  setting('topics.authorizer.cacheTtlMs', { env: 'IM_TOPIC_AUTHORIZER_CACHE_TTL_MS', kind: integer(0, MAX_TIMER_MS), default: 30_000, doc: 'reuse an answer for the same action, topic and user this long (0: never)' }),
  setting('topics.authorizer.cacheSize', { env: 'IM_TOPIC_AUTHORIZER_CACHE_SIZE', kind: integer(1, 1_000_000), default: 10_000, doc: 'answers kept at most; the oldest goes first' }),
  setting('topics.rules', { env: 'IM_TOPIC_RULES', kind: topicRules(), default: defaultTopicRules, defaultText: 'see [Topic access](#topic-access)', doc: 'ordered rules saying who may watch and publish which topics; the first match decides' }),
] as const

/** Read by `im serve` itself, outside ImConfig; listed so that they are documented and known. */
export const ENVIRONMENT_ONLY_SETTINGS: readonly EnvironmentOnlySetting[] = [
  { env: 'IM_LOG_LEVEL', values: 'debug, info, warn, error, silent', defaultText: 'info', doc: 'the least severe log lines written' },
]

/**
 * IM_* variables that are not node settings and must not stop a node: this repository's test and
 * fuzz switches (test/support/im-server.ts, test/fuzz/fuzz-budget.ts), which a developer may have
 * exported in the shell that also runs `npm start`.
 */
export const NOT_NODE_SETTINGS: readonly string[] = ['IM_TEST_LOG', 'IM_FUZZ_RUNS', 'IM_FUZZ_SEED']

// Every key of ImConfigInput has a row: a field added to config.ts without one fails to compile here.
type Missing = Exclude<SettingKey, (typeof SETTINGS)[number]['key']>
const everySettingHasARow: [Missing] extends [never] ? true : Missing = true
void everySettingHasARow
