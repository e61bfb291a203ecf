/**
 * The settings of one IMService node. `im.config.ts` gives a partial `ImConfigInput` through
 * `defineConfig`; `resolveConfig` fills defaults and applies the IM_* environment overrides, as
 * the settings table (settings.ts) says. A field added here needs a row there.
 */
export interface JwtConfig {
  /** HS256 shared secret (IM_JWT_SECRET). */
  readonly secret?: string
  /** PEM public key, RS* / PS* / ES* / EdDSA (IM_JWT_PUBLIC_KEY). */
  readonly publicKey?: string
  /** JWKS URL (IM_JWT_JWKS_URL). */
  readonly jwksUrl?: string
  readonly issuer?: string
  readonly audience?: string
  /** Claim holding the user id (IM_USER_ID_CLAIM); default `sub`, falling back to the .NET name-identifier claim. */
  readonly userIdClaim: string
  /** Clock tolerance in seconds for exp / nbf; default 30. */
  readonly clockToleranceSeconds: number
  /** Close a connection when its token expires, letting the client reconnect with a fresh one (default true). */
  readonly closeOnExpiry: boolean
}

export interface NatsConfig {
  /** Server URL(s), comma separated (IM_NATS_URL); default nats://127.0.0.1:4222. */
  readonly url: string
  /**
   * True when the URL was set explicitly (in im.config.ts or IM_NATS_URL). An explicit NATS is
   * retried forever and never replaced by the embedded bus; the default one is tried once at start.
   */
  readonly explicit: boolean
  /** Optional credentials. */
  readonly token?: string
  readonly user?: string
  readonly pass?: string
  /**
   * Pause between reconnect attempts after a lost connection, in ms (IM_NATS_RECONNECT_WAIT_MS,
   * default 2000). Core NATS drops what is published while a node is not subscribed: a shorter
   * wait shortens that window after NATS comes back, at the cost of more attempts while it is down.
   */
  readonly reconnectWaitMs: number
  /**
   * File holding this node's NATS user nkey seed (`SU...`), IM_NATS_NKEY_SEED_FILE. A file, not the
   * seed itself in a variable: the seed is a private key, and environment variables show in
   * process listings, `docker inspect` and crash reports, while a mounted secret file does not.
   */
  readonly nkeySeedFile?: string
  /** A `.creds` file (user JWT and nkey seed, as `nsc` writes it), IM_NATS_CREDS_FILE. */
  readonly credsFile?: string
  /** TLS to NATS; any file set here means the node speaks only TLS to NATS. */
  readonly tls?: NatsTlsConfig
  /**
   * Write DotNetCore.CAP's headers (`cap-msg-id`, `cap-msg-name`, `cap-msg-type`, `cap-corr-id`,
   * `cap-corr-seq`, `cap-senttime`) on forwarded envelopes, hub publishes and lifecycle events
   * (IM_CAP_HEADERS, default true): CAP's NATS subscribers refuse a message without `cap-msg-id`,
   * and other consumers ignore headers they do not read.
   */
  readonly capHeaders: boolean
}

/** PEM files for TLS to NATS: the CA that signed the servers' certificates and this node's own pair. */
export interface NatsTlsConfig {
  /** CA certificate(s) that NATS servers are checked against (IM_NATS_TLS_CA); default: the system's. */
  readonly caFile?: string
  /** This node's certificate for mutual TLS (IM_NATS_TLS_CERT); set together with `keyFile`. */
  readonly certFile?: string
  /** The private key of `certFile` (IM_NATS_TLS_KEY). */
  readonly keyFile?: string
}

/** The longest a client result may be waited for (a service's `timeoutMs` included), in ms. */
export const MAX_CLIENT_RESULT_TIMEOUT_MS = 300_000

/** A transport a hub may serve, named as the SignalR clients' `HttpTransportType` names it. */
export type HubTransport = 'WebSockets' | 'ServerSentEvents' | 'LongPolling'

export interface HubOptionsConfig {
  /** Prefix of hub routes; default `/signalr-hubs`. A hub's route is `<prefix>/<kebab-name>` unless it sets its own. */
  readonly pathPrefix: string
  /** Maximum size of one incoming hub message in bytes (default 32 KB, as ASP.NET Core). */
  readonly maximumReceiveMessageSize: number
  /** Server ping interval in ms (default 15 000). */
  readonly keepAliveIntervalMs: number
  /** Close a connection that sent nothing for this long, in ms (default 30 000). */
  readonly clientTimeoutMs: number
  /** Time allowed for the handshake, in ms (default 15 000). */
  readonly handshakeTimeoutMs: number
  /**
   * The default of the three waits below, in ms (default 15 000; ASP.NET Core's DisconnectTimeout,
   * its one idle timeout). Set one of them to part it from the others.
   */
  readonly disconnectTimeoutMs: number
  /** A negotiated connection whose transport is not opened within this time is forgotten, in ms (default `disconnectTimeoutMs`). */
  readonly negotiationTimeoutMs: number
  /** A long-polling client that sends no poll for this long has left, in ms (default `disconnectTimeoutMs`). */
  readonly longPollIdleTimeoutMs: number
  /**
   * How long a stateful-reconnect connection whose transport was lost (a network cut, a node
   * draining) keeps its buffer and waits for its client to come back, in ms (default `disconnectTimeoutMs`).
   */
  readonly statefulReconnectWindowMs: number
  /** Invocations a connection may make per second on average (token bucket; default 50). */
  readonly maxInvocationsPerSecond: number
  /** ...and in a burst (default 100). */
  readonly invocationBurst: number
  /** Invocations that may wait behind the running one on a connection (default 32). */
  readonly maxQueuedInvocations: number
  /** Invocations of one connection that run at the same time (ASP.NET Core's MaximumParallelInvocationsPerClient; default 1). */
  readonly maxParallelInvocationsPerClient: number
  /**
   * How long a client result may take, in ms (default 30 000, at most 300 000): hub code's
   * `this.clients.client(id).invoke(...)` without its own `timeoutMs`, and a service's request to
   * `im.<hub>.invoke.client` without `timeoutMs`. Past it the asker gets a timeout error.
   */
  readonly clientResultTimeoutMs: number
  /**
   * Items a client-to-server stream may hold before the hub method reads them (default 100): at
   * the bound the server stops reading the connection until the method takes items.
   */
  readonly streamBufferCapacity: number
  /** Client-to-server streams (`streamIds`) one invocation may carry (default 8); more are refused. */
  readonly maxStreamsPerInvocation: number
  /** Client-to-server streams open at once on one connection, queued invocations' included (default 32). */
  readonly maxClientStreamsPerConnection: number
  /**
   * Bytes the client-to-server streams of one connection may hold together, each item counted by
   * the size of its frame (default 1 MiB): at the bound the server stops reading the connection.
   */
  readonly maxStreamBufferBytes: number
  /**
   * Bytes the client-to-server streams of all connections of a node may hold together (default
   * 64 MiB): past it each connection is read only once its hub methods have taken what it holds.
   */
  readonly maxStreamBufferBytesPerNode: number
  /** Connections one user may hold on this node (default 100). */
  readonly maxConnectionsPerUser: number
  /** Connections one client address may hold on this node (default 1000). */
  readonly maxConnectionsPerAddress: number
  /** A client that leaves more than this many bytes unread is closed (default 1 MiB). */
  readonly maxBufferedBytes: number
  /** ...or more than this many messages, where the transport counts them (long polling; default 10 000). */
  readonly maxBufferedMessages: number
  /** Offer stateful reconnect to clients that ask for it (default true). */
  readonly allowStatefulReconnects: boolean
  /** Unacknowledged bytes kept per connection for stateful reconnect (default 100 000, as ASP.NET Core). */
  readonly statefulReconnectBufferSize: number
  /**
   * Transports hubs serve unless a hub names its own (`@Hub({ transports })`); default all three,
   * as ASP.NET Core's HttpConnectionDispatcherOptions.Transports (IM_TRANSPORTS, comma separated).
   */
  readonly transports: readonly HubTransport[]
  /** How long a long-polling request waits for data before an empty answer, in ms (default 90 000). */
  readonly longPollTimeoutMs: number
  /**
   * What a request passed to the node holding a connection may take beyond its own wait, in ms
   * (default 5000): a NATS round trip and the other node's work. A relayed long poll is given up
   * after `longPollTimeoutMs` plus this; hub code's client result asked of a connection on another
   * node after its timeout plus this.
   */
  readonly relayMarginMs: number
  /** Add exception details to Completion errors (ASP.NET Core's EnableDetailedErrors); default false. */
  readonly enableDetailedErrors: boolean
  /**
   * Property names of forwarded envelopes and lifecycle events (IM_ENVELOPE_CASING): `camel`
   * (default, `connectionId`) or `pascal` (`ConnectionId`, which .NET binds case-sensitively by default).
   */
  readonly envelopeCasing: 'camel' | 'pascal'
  /**
   * Largest payload taken from NATS for delivery, and from the HTTP publish endpoint, in bytes
   * (default 1 MiB, NATS's own max_payload); a larger one is dropped and counted.
   */
  readonly maxServicePayloadSize: number
  /**
   * Time a client has to send a whole HTTP request (negotiate, a long-polling POST), in ms
   * (default 30 000); its headers must come within the smaller of this and 10 s (slow-loris bound).
   */
  readonly requestTimeoutMs: number
  /** Groups one connection may be in (default 128); a join past it fails with IM_LIMIT_EXCEEDED. */
  readonly maxGroupsPerConnection: number
  /**
   * Watches (DefaultHub's `watch`, `this.bus.watch` in hub code) one connection may hold open at
   * once (default 64); one past it fails with IM_LIMIT_EXCEEDED until another ends.
   */
  readonly maxWatchesPerConnection: number
  /**
   * Distinct subjects this node watches at once, over all connections (default 100 000). Watchers
   * of one subject share one NATS subscription, so this bounds the subscriptions held for watches.
   */
  readonly maxWatchedSubjects: number
  /**
   * On SIGTERM, how long the node waits for queued messages to go out and for stateful-reconnect
   * clients to move to another node before it closes what is left, in ms (default 5000).
   */
  readonly shutdownTimeoutMs: number
}

/**
 * JetStream, opt-in: durable forwarding of client invocations and
 * a stream that services publish into. Both need NATS; on the embedded bus they change nothing.
 */
export interface JetStreamConfig {
  /**
   * Subjects (wildcards allowed) whose forwarded client invocations go through JetStream: the
   * invocation completes once the stream holding the subject stored it (IM_JETSTREAM_FORWARD).
   */
  readonly forward: readonly string[]
  /** Stream IMService creates or verifies at start and takes `subjects` from; unset: off (IM_JETSTREAM_STREAM). */
  readonly stream?: string
  /** Subjects taken from the stream instead of core NATS (IM_JETSTREAM_SUBJECTS). */
  readonly subjects: readonly string[]
  /** Wait for the stream's acknowledgement of a durable publish, in ms (IM_JETSTREAM_PUBLISH_TIMEOUT_MS; default 5000). */
  readonly publishTimeoutMs: number
  /** Duplicate window of a stream we create, and how long a node remembers message ids, in ms (default 300 000: it outlasts DotNetCore.CAP's first scheduled retry, about 4 minutes after a failure). */
  readonly duplicateWindowMs: number
  /** How long a stream we create keeps messages, in ms (default 3 600 000). */
  readonly maxAgeMs: number
  /** A node's consumer unread this long is deleted by the server, in ms (default 3 600 000). */
  readonly consumerInactiveMs: number
  /**
   * Replicas of a stream IMService creates (IM_JETSTREAM_REPLICAS): 1 to 5, or `auto` (default):
   * 3 when the NATS cluster reports 3 or more servers, else 1. A stream that exists is not changed.
   */
  readonly replicas: number | 'auto'
  /** Life of one pull request of a node's consumer, in ms (IM_JETSTREAM_PULL_EXPIRES_MS; default 5000). */
  readonly pullExpiresMs: number
  /**
   * Idle heartbeat the server sends on a pending pull, in ms (IM_JETSTREAM_HEARTBEAT_MS; default
   * 1000). Without a message or a heartbeat for about 2.5 of these the consumer counts as stalled.
   */
  readonly heartbeatMs: number
  /** Offline delivery of durable user messages (`"durable": true` on `im.<hub>.send.user`). */
  readonly offline: OfflineDeliveryConfig
}

/**
 * Offline delivery, opt-in: durable user messages for users with no connection are kept in
 * JetStream and delivered when the user next connects. Serves each hub whose `im.<hub>.send.user`
 * it handles and `subjects` holds; needs at least one.
 */
export interface OfflineDeliveryConfig {
  /** IM_OFFLINE_DELIVERY; default false. */
  readonly enabled: boolean
  /** How long a message is kept, in ms (IM_OFFLINE_TTL_MS; default 7 days). */
  readonly ttlMs: number
  /** Messages kept per user; past it the oldest is dropped (IM_OFFLINE_MAX_PER_USER; default 1000). */
  readonly maxPerUser: number
  /** The stream that keeps them (IM_OFFLINE_STREAM; default IM_OFFLINE). */
  readonly stream: string
  /** The KV bucket of the per-user delivery cursors (IM_OFFLINE_CURSOR_BUCKET; default im-offline-cursors). */
  readonly cursorBucket: string
}

/** Presence requests, `im.<hub>.disconnect` and user online/offline events (docs/presence.md). */
export interface PresenceConfig {
  /** Serve presence on every hub (IM_PRESENCE, default true). Off: none of its subjects is subscribed. */
  readonly enabled: boolean
  /** How long a presence request waits for the other nodes' answers, in ms (IM_PRESENCE_GATHER_TIMEOUT_MS, default 500). */
  readonly gatherTimeoutMs: number
  /**
   * Heartbeat interval of a node, in ms (IM_PRESENCE_LEASE_MS, default 2000). A node silent for
   * three intervals counts as gone: its users go offline within about four intervals.
   */
  readonly leaseMs: number
  /**
   * How long after a user's last connection on a node closes the node publishes `offline` (when
   * it was the user's last node), in ms (IM_PRESENCE_OFFLINE_DELAY_MS, default 1000). A reload or
   * reconnect within it publishes nothing and writes nothing.
   */
  readonly offlineDelayMs: number
}

/**
 * Who may watch or publish a topic: `anyone`; `authenticated` users; the user named by the
 * pattern's `{userId}` token (`owner`); users holding one of `roles` (the `role` / `roles` claims);
 * `nobody`; or the authorizer service (`authorizer`). A list allows whoever any entry allows.
 */
export type TopicAudience = 'anyone' | 'authenticated' | 'owner' | 'nobody' | 'authorizer' | { readonly roles: readonly string[] }

/**
 * One topic rule. `pattern` is a topic with NATS wildcards (`*` one token, `>` the rest) and an
 * optional `{userId}` token, which matches one token like `*` and names the topic's owner.
 */
export interface TopicRuleInput {
  readonly pattern: string
  readonly watch: TopicAudience | readonly TopicAudience[]
  readonly publish: TopicAudience | readonly TopicAudience[]
}

/** A validated rule: each action's audience as a list. */
export interface TopicRule {
  readonly pattern: string
  readonly watch: readonly TopicAudience[]
  readonly publish: readonly TopicAudience[]
}

/** The optional authorizer service, asked on `im.<hub>.authorize` (docs/service-api.md). */
export interface TopicAuthorizerConfig {
  /** Ask the service (IM_TOPIC_AUTHORIZER, default false): for rules that say `authorizer`, and for topics no rule matches. */
  readonly enabled: boolean
  /** Wait for its answer, in ms (IM_TOPIC_AUTHORIZER_TIMEOUT_MS, default 1000); no answer refuses. */
  readonly timeoutMs: number
  /** How long an answer is reused for the same action, topic and user, in ms (IM_TOPIC_AUTHORIZER_CACHE_TTL_MS, default 30 000; 0: never). */
  readonly cacheTtlMs: number
  /** Answers kept at most; the oldest goes first (IM_TOPIC_AUTHORIZER_CACHE_SIZE, default 10 000). */
  readonly cacheSize: number
}

export interface TopicsConfig {
  /** Checked in order, the first matching rule decides (IM_TOPIC_RULES, JSON). */
  readonly rules: readonly TopicRule[]
  /**
   * Where `rules` come from: the configuration; the secure default table (a JWT key is set); or
   * the open default (no JWT: everyone is anonymous, so anyone may watch and publish any topic).
   */
  readonly source: 'configured' | 'secure-default' | 'open-default'
  readonly authorizer: TopicAuthorizerConfig
}

export interface ImConfig {
  /** IM_PORT; default 5000. */
  readonly port: number
  /** IM_HOST; default 0.0.0.0. */
  readonly host: string
  /** IM_NODE_ID; default a random id per process. */
  readonly nodeId: string
  /** Folder holding the hub classes, relative to the project root; default `hubs`. */
  readonly hubsDir: string
  /** Folder `im generate` writes to; default `generated`. */
  readonly generatedDir: string
  readonly nats: NatsConfig
  /** Undefined when no JWT setting is present: every connection is anonymous. */
  readonly jwt?: JwtConfig
  /**
   * Browser origins allowed to call the hubs from other origins (IM_CORS_ORIGINS, comma
   * separated). Empty (the default): cross-origin browser requests and WebSocket upgrades are
   * refused, as in ASP.NET Core; same-origin requests and clients that send no Origin pass.
   * `['*']`: any origin, without credentials.
   */
  readonly corsOrigins: readonly string[]
  /**
   * IM_API_KEY, sent by callers of `POST /api/publish` in `X-Api-Key`. Required for every publish
   * on a listener other machines can reach (a host other than 127.0.0.1, ::1 or localhost).
   */
  readonly apiKey?: string
  /**
   * IM_INTERNAL_PORT: a second listener serving only `/healthz`, `/metrics` and `/api/publish`;
   * when set, the public port no longer serves `/metrics` and `/api/publish`. Unset: off.
   */
  readonly internalPort?: number
  /** IM_INTERNAL_HOST: where the internal listener binds; default 127.0.0.1. */
  readonly internalHost: string
  readonly hubs: HubOptionsConfig
  readonly jetstream: JetStreamConfig
  readonly presence: PresenceConfig
  /** Who may watch and publish which topics of DefaultHub (and of hubs that call `authorizeTopic`). */
  readonly topics: TopicsConfig
}

type DeepPartial<T> = {
  [K in keyof T]?: NonNullable<T[K]> extends readonly unknown[]
    ? T[K]
    : NonNullable<T[K]> extends object
      ? DeepPartial<NonNullable<T[K]>>
      : T[K]
}

/** What `im.config.ts` may say about topics: rules in their short form; `source` is not a setting. */
export interface TopicsConfigInput {
  readonly rules?: readonly TopicRuleInput[]
  readonly authorizer?: Partial<TopicAuthorizerConfig>
}

/**
 * What `im.config.ts` may say: any subset of ImConfig, less what is derived (`nats.explicit`,
 * `topics.source`). Every key here has a row in the settings table (settings.ts).
 */
export type ImConfigInput = Omit<DeepPartial<ImConfig>, 'nats' | 'topics'> & {
  readonly nats?: Omit<DeepPartial<NatsConfig>, 'explicit'>
  readonly topics?: TopicsConfigInput
}
