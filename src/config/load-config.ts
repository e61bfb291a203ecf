/**
 * Turns what im.config.ts says into a complete ImConfig: defaults first, then the IM_* environment
 * overrides, so that one build runs in every environment (DESIGN.md, Configuration). Everything is
 * validated here, once, at start-up.
 */
import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ImError, ImErrorCode } from '../errors.js'
import type { HubOptionsConfig, HubTransport, ImConfig, ImConfigInput, NatsConfig } from './config.js'
import { hideUrlPassword, invalid, readBoolean, readInteger, readList, readString, settingSource, show, type Env, type SettingSource } from './config-values.js'
import { resolveJetStreamConfig } from './resolve-jetstream-config.js'
import { resolveJwtConfig } from './resolve-jwt-config.js'
import { resolveTopicsConfig } from './resolve-topics-config.js'

export { describeConfig } from './describe-config.js'

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222'
// setTimeout stores its delay in a signed 32-bit integer; larger values fire at once.
const MAX_TIMER_MS = 2_147_483_647
const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/
const PATH_PREFIX = /^(?:\/[A-Za-z0-9._~-]+)*$/

/** Applies defaults and environment overrides to `input` and validates the result. */
export function resolveConfig(input: ImConfigInput, env: Env = process.env): ImConfig {
  const at = (fileValue: unknown, key: string, envVar: string): SettingSource | undefined => settingSource(env, fileValue, { key, envVar })
  const nodeIdSource = at(input.nodeId, 'nodeId', 'IM_NODE_ID')
  const nodeId = readString(nodeIdSource) ?? defaultNodeId()
  if (!NODE_ID.test(nodeId)) throw invalid(`${nodeIdSource?.label ?? 'IM_NODE_ID'} must match [A-Za-z0-9_-]+ (at most 64 characters), got ${show(nodeId)}`)
  const apiKey = readString(at(input.apiKey, 'apiKey', 'IM_API_KEY'), { secret: true })
  const internalPort = readInteger(at(input.internalPort, 'internalPort', 'IM_INTERNAL_PORT'), 0, 65_535)
  const jwt = resolveJwtConfig(input.jwt, env)
  return {
    port: readInteger(at(input.port, 'port', 'IM_PORT'), 0, 65_535) ?? 5000,
    host: readString(at(input.host, 'host', 'IM_HOST')) ?? '0.0.0.0',
    nodeId,
    hubsDir: readString(at(input.hubsDir, 'hubsDir', 'IM_HUBS_DIR')) ?? 'hubs',
    generatedDir: readString(at(input.generatedDir, 'generatedDir', 'IM_GENERATED_DIR')) ?? 'generated',
    nats: resolveNats(input.nats, env),
    ...(jwt !== undefined ? { jwt } : {}),
    corsOrigins: Object.freeze(resolveCorsOrigins(at(input.corsOrigins, 'corsOrigins', 'IM_CORS_ORIGINS'))),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(internalPort !== undefined ? { internalPort } : {}),
    internalHost: readString(at(input.internalHost, 'internalHost', 'IM_INTERNAL_HOST')) ?? '127.0.0.1',
    hubs: resolveHubs(input.hubs, env),
    jetstream: resolveJetStreamConfig(input.jetstream, env),
    topics: resolveTopicsConfig(input.topics, env, jwt !== undefined),
  }
}

function resolveNats(input: ImConfigInput['nats'], env: Env): NatsConfig {
  const at = (fileValue: unknown, key: string, envVar: string): SettingSource | undefined => settingSource(env, fileValue, { key: `nats.${key}`, envVar })
  const urlSource = at(input?.url, 'url', 'IM_NATS_URL')
  const url = readString(urlSource)
  if (url !== undefined && url.split(',').some((entry) => entry.trim() === '' || /\s/.test(entry.trim()))) {
    throw invalid(`${urlSource?.label} must be one or more comma separated server URLs, got ${show(hideUrlPassword(url))}`)
  }
  const token = readString(at(input?.token, 'token', 'IM_NATS_TOKEN'), { secret: true })
  const user = readString(at(input?.user, 'user', 'IM_NATS_USER'))
  const pass = readString(at(input?.pass, 'pass', 'IM_NATS_PASS'), { secret: true })
  if ((user === undefined) !== (pass === undefined)) throw invalid('IM_NATS_USER and IM_NATS_PASS (nats.user, nats.pass) must be set together')
  return {
    url: url ?? DEFAULT_NATS_URL,
    // Explicit means someone asked for this NATS: it is retried forever instead of being replaced.
    explicit: url !== undefined || input?.explicit === true,
    ...(token !== undefined ? { token } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { pass } : {}),
    reconnectWaitMs: readInteger(at(input?.reconnectWaitMs, 'reconnectWaitMs', 'IM_NATS_RECONNECT_WAIT_MS'), 50, 60_000) ?? 2000,
  }
}

function resolveCorsOrigins(source: SettingSource | undefined): string[] {
  const origins = readList(source) ?? []
  // "*" is any origin, without credentials; naming origins beside it would change nothing.
  if (origins.includes('*')) {
    if (origins.length > 1) throw invalid(`${source?.label} must be "*" alone or a list of origins, got ${show(origins.join(','))}`)
    return ['*']
  }
  return origins.map((origin) => {
    let url: URL | undefined
    try {
      url = new URL(origin)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || `${url.origin}/` !== url.href) {
      throw invalid(`${source?.label} entries must be origins like https://app.example.com, got ${show(origin)}`)
    }
    // Browsers send Origin in lower case without a trailing slash; store it the same way.
    return url.origin
  })
}

function resolveHubs(input: ImConfigInput['hubs'], env: Env): HubOptionsConfig {
  const at = (fileValue: unknown, key: string, envVar: string): SettingSource | undefined => settingSource(env, fileValue, { key: `hubs.${key}`, envVar })
  const prefixSource = at(input?.pathPrefix, 'pathPrefix', 'IM_HUB_PATH_PREFIX')
  // An empty prefix from the file is allowed (hubs at the root); the environment cannot say "empty".
  const rawPrefix = prefixSource?.value === '' ? '' : (readString(prefixSource) ?? '/signalr-hubs')
  const pathPrefix = rawPrefix.replace(/\/+$/, '')
  if (!PATH_PREFIX.test(pathPrefix)) throw invalid(`${prefixSource?.label} must be empty or a path like /signalr-hubs, got ${show(rawPrefix)}`)
  const keepAliveSource = at(input?.keepAliveIntervalMs, 'keepAliveIntervalMs', 'IM_KEEP_ALIVE_MS')
  const clientTimeoutSource = at(input?.clientTimeoutMs, 'clientTimeoutMs', 'IM_CLIENT_TIMEOUT_MS')
  const keepAliveIntervalMs = readInteger(keepAliveSource, 1, MAX_TIMER_MS) ?? 15_000
  const clientTimeoutMs = readInteger(clientTimeoutSource, 1, MAX_TIMER_MS) ?? 30_000
  // A client that pings only every keep-alive interval must not be timed out between two pings.
  if (clientTimeoutMs <= keepAliveIntervalMs) {
    throw invalid(
      `${clientTimeoutSource?.label ?? 'IM_CLIENT_TIMEOUT_MS'} (${clientTimeoutMs}) must be greater than ` +
        `${keepAliveSource?.label ?? 'IM_KEEP_ALIVE_MS'} (${keepAliveIntervalMs})`,
    )
  }
  return {
    pathPrefix,
    maximumReceiveMessageSize: readInteger(at(input?.maximumReceiveMessageSize, 'maximumReceiveMessageSize', 'IM_MAX_MESSAGE_SIZE'), 1, 64 * 1024 * 1024) ?? 32_768,
    keepAliveIntervalMs,
    clientTimeoutMs,
    handshakeTimeoutMs: readInteger(at(input?.handshakeTimeoutMs, 'handshakeTimeoutMs', 'IM_HANDSHAKE_TIMEOUT_MS'), 1, MAX_TIMER_MS) ?? 15_000,
    disconnectTimeoutMs: readInteger(at(input?.disconnectTimeoutMs, 'disconnectTimeoutMs', 'IM_DISCONNECT_TIMEOUT_MS'), 1, MAX_TIMER_MS) ?? 15_000,
    maxInvocationsPerSecond: readInteger(at(input?.maxInvocationsPerSecond, 'maxInvocationsPerSecond', 'IM_MAX_INVOCATIONS_PER_SECOND'), 1, 1_000_000) ?? 50,
    invocationBurst: readInteger(at(input?.invocationBurst, 'invocationBurst', 'IM_INVOCATION_BURST'), 1, 1_000_000) ?? 100,
    maxQueuedInvocations: readInteger(at(input?.maxQueuedInvocations, 'maxQueuedInvocations', 'IM_MAX_QUEUED_INVOCATIONS'), 0, 100_000) ?? 32,
    maxParallelInvocationsPerClient:
      readInteger(at(input?.maxParallelInvocationsPerClient, 'maxParallelInvocationsPerClient', 'IM_MAX_PARALLEL_INVOCATIONS'), 1, 1024) ?? 1,
    streamBufferCapacity: readInteger(at(input?.streamBufferCapacity, 'streamBufferCapacity', 'IM_STREAM_BUFFER_CAPACITY'), 1, 1_000_000) ?? 100,
    maxStreamsPerInvocation: readInteger(at(input?.maxStreamsPerInvocation, 'maxStreamsPerInvocation', 'IM_MAX_STREAMS_PER_INVOCATION'), 0, 1024) ?? 8,
    maxClientStreamsPerConnection:
      readInteger(at(input?.maxClientStreamsPerConnection, 'maxClientStreamsPerConnection', 'IM_MAX_CLIENT_STREAMS_PER_CONNECTION'), 0, 100_000) ?? 32,
    maxStreamBufferBytes: readInteger(at(input?.maxStreamBufferBytes, 'maxStreamBufferBytes', 'IM_MAX_STREAM_BUFFER_BYTES'), 1024, 1024 * 1024 * 1024) ?? 1024 * 1024,
    maxStreamBufferBytesPerNode:
      readInteger(at(input?.maxStreamBufferBytesPerNode, 'maxStreamBufferBytesPerNode', 'IM_MAX_STREAM_BUFFER_BYTES_PER_NODE'), 1024, 64 * 1024 * 1024 * 1024) ?? 64 * 1024 * 1024,
    maxConnectionsPerUser: readInteger(at(input?.maxConnectionsPerUser, 'maxConnectionsPerUser', 'IM_MAX_CONNECTIONS_PER_USER'), 1, 10_000_000) ?? 100,
    maxConnectionsPerAddress: readInteger(at(input?.maxConnectionsPerAddress, 'maxConnectionsPerAddress', 'IM_MAX_CONNECTIONS_PER_ADDRESS'), 1, 10_000_000) ?? 1000,
    maxBufferedBytes: readInteger(at(input?.maxBufferedBytes, 'maxBufferedBytes', 'IM_MAX_BUFFERED_BYTES'), 1024, 1024 * 1024 * 1024) ?? 1024 * 1024,
    maxBufferedMessages: readInteger(at(input?.maxBufferedMessages, 'maxBufferedMessages', 'IM_MAX_BUFFERED_MESSAGES'), 1, 10_000_000) ?? 10_000,
    allowStatefulReconnects: readBoolean(at(input?.allowStatefulReconnects, 'allowStatefulReconnects', 'IM_STATEFUL_RECONNECT')) ?? true,
    statefulReconnectBufferSize: readInteger(at(input?.statefulReconnectBufferSize, 'statefulReconnectBufferSize', 'IM_STATEFUL_RECONNECT_BUFFER'), 1, 64 * 1024 * 1024) ?? 100_000,
    transports: resolveTransports(at(input?.transports, 'transports', 'IM_TRANSPORTS')),
    longPollTimeoutMs: readInteger(at(input?.longPollTimeoutMs, 'longPollTimeoutMs', 'IM_LONG_POLL_TIMEOUT_MS'), 1, MAX_TIMER_MS) ?? 90_000,
    enableDetailedErrors: readBoolean(at(input?.enableDetailedErrors, 'enableDetailedErrors', 'IM_DETAILED_ERRORS')) ?? false,
    maxServicePayloadSize: readInteger(at(input?.maxServicePayloadSize, 'maxServicePayloadSize', 'IM_MAX_SERVICE_PAYLOAD_SIZE'), 1024, 64 * 1024 * 1024) ?? 1024 * 1024,
    requestTimeoutMs: readInteger(at(input?.requestTimeoutMs, 'requestTimeoutMs', 'IM_REQUEST_TIMEOUT_MS'), 100, MAX_TIMER_MS) ?? 30_000,
    maxGroupsPerConnection: readInteger(at(input?.maxGroupsPerConnection, 'maxGroupsPerConnection', 'IM_MAX_GROUPS_PER_CONNECTION'), 1, 1_000_000) ?? 128,
    maxWatchesPerConnection: readInteger(at(input?.maxWatchesPerConnection, 'maxWatchesPerConnection', 'IM_MAX_WATCHES_PER_CONNECTION'), 1, 100_000) ?? 64,
    maxWatchedSubjects: readInteger(at(input?.maxWatchedSubjects, 'maxWatchedSubjects', 'IM_MAX_WATCHED_SUBJECTS'), 1, 10_000_000) ?? 100_000,
    shutdownTimeoutMs: readInteger(at(input?.shutdownTimeoutMs, 'shutdownTimeoutMs', 'IM_SHUTDOWN_TIMEOUT_MS'), 0, MAX_TIMER_MS) ?? 5000,
  }
}

export const HUB_TRANSPORTS: readonly HubTransport[] = ['WebSockets', 'ServerSentEvents', 'LongPolling']

/** One or more of HUB_TRANSPORTS, named exactly; kept in the order negotiate lists them. */
function resolveTransports(source: SettingSource | undefined): readonly HubTransport[] {
  const names = readList(source)
  if (names === undefined) return HUB_TRANSPORTS
  const unknown = names.find((name) => !(HUB_TRANSPORTS as readonly string[]).includes(name))
  if (names.length === 0 || unknown !== undefined) {
    throw invalid(`${source?.label} must name one or more of ${HUB_TRANSPORTS.join(', ')}, got ${show(unknown ?? names.join(','))}`)
  }
  return Object.freeze(HUB_TRANSPORTS.filter((name) => names.includes(name)))
}

/** A readable id unique per process: the host's first name label, cleaned, plus 4 random hex digits. */
export function defaultNodeId(host: string = hostname()): string {
  const label = (host.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16) || 'node'
  return `${label}-${randomBytes(2).toString('hex')}`
}

export interface LoadConfigFileOptions {
  /** True when the path is the default one, not given by the user: a missing file then means "no settings". */
  readonly optional?: boolean
}

/** Imports a config module (im.config.ts runs under tsx) and returns its default export. */
export async function loadConfigFile(path: string, options: LoadConfigFileOptions = {}): Promise<ImConfigInput> {
  const absolute = resolve(path)
  try {
    await stat(absolute)
  } catch (cause) {
    if (options.optional && (cause as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw new ImError(ImErrorCode.ConfigInvalid, `config file ${absolute} cannot be read`, { cause })
  }
  let loaded: { default?: unknown }
  try {
    loaded = (await import(pathToFileURL(absolute).href)) as { default?: unknown }
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    throw new ImError(ImErrorCode.ConfigInvalid, `config file ${absolute} failed to load: ${reason}`, { cause })
  }
  const config = loaded.default
  if (config === undefined) {
    throw new ImError(ImErrorCode.ConfigInvalid, `config file ${absolute} has no default export; write \`export default defineConfig({ ... })\``)
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ImError(ImErrorCode.ConfigInvalid, `config file ${absolute} must export an object by default, got ${show(config)}`)
  }
  return config as ImConfigInput
}
