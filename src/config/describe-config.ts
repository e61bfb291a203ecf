import type { ImConfig } from './config.js'
import { hideUrlPassword } from './config-values.js'

/** Human lines describing `config` for start-up output. Secrets appear as "set", never as values. */
export function describeConfig(config: ImConfig): string[] {
  const { nats, jwt, hubs } = config
  const natsAuth = [nats.token !== undefined ? 'token set' : '', nats.user !== undefined ? `user ${JSON.stringify(nats.user)}, password set` : '',
    nats.nkeySeedFile !== undefined ? `nkey seed from ${nats.nkeySeedFile}` : '', nats.credsFile !== undefined ? `creds from ${nats.credsFile}` : '',
    nats.tls !== undefined && Object.values(nats.tls).some((file) => file !== undefined) ? `TLS${nats.tls.certFile !== undefined ? ' with client certificate' : ''}` : '']
    .filter(Boolean)
    .join(', ')
  return [
    `node id: ${config.nodeId}`,
    `listening on: ${config.host}:${config.port}`,
    `nats: ${hideUrlPassword(nats.url)} (${nats.explicit ? 'explicit' : 'default'})${natsAuth ? `, ${natsAuth}` : ''}`,
    `auth: ${jwt === undefined ? 'none, every connection is anonymous' : describeJwt(jwt)}`,
    `cors origins: ${describeOrigins(config.corsOrigins)}`,
    `api key: ${config.apiKey !== undefined ? 'set' : 'not set'}`,
    `internal listener: ${config.internalPort !== undefined ? `${config.internalHost}:${config.internalPort} (/healthz, /metrics, /api/publish)` : 'off'}`,
    `hubs: ${config.hubsDir} at ${hubs.pathPrefix || '/'}, generated code in ${config.generatedDir}`,
    `limits: message ${hubs.maximumReceiveMessageSize} B, keep-alive ${hubs.keepAliveIntervalMs} ms, client timeout ${hubs.clientTimeoutMs} ms, ` +
      `handshake ${hubs.handshakeTimeoutMs} ms, ${describeDisconnect(hubs)}, detailed errors ${hubs.enableDetailedErrors ? 'on' : 'off'}`,
    `topics: ${describeTopics(config.topics)}`,
    // Off by default, and then not worth a line.
    ...(config.jetstream.forward.length > 0 || config.jetstream.stream !== undefined ? [`jetstream: ${describeJetStream(config.jetstream)}`] : []),
  ]
}

/** One figure while the three waits share the disconnect timeout; each by its name once one is parted. */
function describeDisconnect(hubs: ImConfig['hubs']): string {
  const { disconnectTimeoutMs, negotiationTimeoutMs, longPollIdleTimeoutMs, statefulReconnectWindowMs } = hubs
  if (negotiationTimeoutMs === disconnectTimeoutMs && longPollIdleTimeoutMs === disconnectTimeoutMs && statefulReconnectWindowMs === disconnectTimeoutMs) {
    return `disconnect ${disconnectTimeoutMs} ms`
  }
  return `negotiation ${negotiationTimeoutMs} ms, long-poll idle ${longPollIdleTimeoutMs} ms, reconnect window ${statefulReconnectWindowMs} ms`
}

function describeOrigins(origins: readonly string[]): string {
  if (origins.length === 0) return 'none (cross-origin browser requests are refused; set IM_CORS_ORIGINS)'
  return origins[0] === '*' ? 'any, without credentials' : origins.join(', ')
}

function describeJwt(jwt: NonNullable<ImConfig['jwt']>): string {
  const key = jwt.secret !== undefined ? 'HS256 secret set' : jwt.publicKey !== undefined ? 'public key set' : `JWKS ${urlWithoutSecrets(jwt.jwksUrl ?? '')}`
  const parts = [
    `JWT (${key})`,
    jwt.issuer !== undefined ? `issuer ${JSON.stringify(jwt.issuer)}` : 'any issuer',
    jwt.audience !== undefined ? `audience ${JSON.stringify(jwt.audience)}` : 'any audience',
    `user id claim ${JSON.stringify(jwt.userIdClaim)}`,
    `clock tolerance ${jwt.clockToleranceSeconds} s`,
  ]
  return parts.join(', ')
}

// Only origin and path: user info and query strings may carry credentials.
function urlWithoutSecrets(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}`
  } catch {
    return '(invalid URL)'
  }
}

function describeJetStream(jetstream: ImConfig['jetstream']): string {
  const forward = jetstream.forward.length > 0 ? `durable forwarding for ${jetstream.forward.join(', ')}` : 'no durable forwarding'
  const stream = jetstream.stream !== undefined ? `stream ${jetstream.stream} for ${jetstream.subjects.join(', ')}` : 'no stream'
  return `${forward}; ${stream}`
}

function describeTopics(topics: ImConfig['topics']): string {
  const { authorizer } = topics
  const source = { configured: 'configured rules', 'secure-default': 'default rules (JWT)', 'open-default': 'default rules (no JWT)' }[topics.source]
  const rules = topics.rules.map((rule) => `${rule.pattern} watch ${audience(rule.watch)} publish ${audience(rule.publish)}`).join('; ')
  const service = authorizer.enabled
    ? `authorizer on (timeout ${authorizer.timeoutMs} ms, cache ${authorizer.cacheTtlMs} ms x ${authorizer.cacheSize})`
    : 'authorizer off, unmatched topics refused'
  return `${source}: ${rules || 'none'}; ${service}`
}

function audience(list: ImConfig['topics']['rules'][number]['watch']): string {
  return list.map((item) => (typeof item === 'string' ? item : `roles ${item.roles.join('|')}`)).join(',')
}
