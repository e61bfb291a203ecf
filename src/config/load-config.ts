/**
 * Turns what im.config.ts says into a complete ImConfig: defaults first, then the IM_* environment
 * overrides, so that one build runs in every environment (docs/configuration.md). Everything is
 * validated here, once, at start-up: the settings table (settings.ts) says what each setting takes;
 * this file adds the rules between settings.
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import type { HubOptionsConfig, ImConfig, ImConfigInput, JetStreamConfig, JwtConfig, NatsConfig, TopicAuthorizerConfig, TopicRule } from './config.js'
import { invalid, show, type Env } from './config-values.js'
import { readSettings, type SettingsRead } from './read-settings.js'
import { checkJetStreamConfig, checkOfflineDeliveryConfig } from './resolve-jetstream-config.js'
import { finishJwtConfig } from './resolve-jwt-config.js'
import { topicRulesSource } from './resolve-topics-config.js'
import { ENVIRONMENT_ONLY_SETTINGS, NOT_NODE_SETTINGS, SETTINGS } from './settings.js'
import { refuseUnknownNames } from './unknown-settings.js'

export { describeConfig } from './describe-config.js'
export { DEFAULT_NATS_URL, defaultNodeId } from './defaults.js'

/**
 * Applies defaults and environment overrides to `input` and validates the result. An IM_* variable
 * or a key of `input` that is not a setting is refused with the closest valid name.
 */
export function resolveConfig(input: ImConfigInput, env: Env = process.env): ImConfig {
  refuseUnknownNames({ rows: SETTINGS, environmentOnly: ENVIRONMENT_ONLY_SETTINGS, ignoredVariables: NOT_NODE_SETTINGS }, input, env)
  const read = readSettings(SETTINGS, input, env)
  const tree = read.tree as Record<string, unknown> & {
    nats: Omit<NatsConfig, 'explicit'>
    jwt: Partial<JwtConfig>
    hubs: HubOptionsConfig
    jetstream: JetStreamConfig
    topics: { rules: readonly TopicRule[]; authorizer: TopicAuthorizerConfig }
  }
  const { jwt: jwtGroup, ...rest } = tree
  const jwt = finishJwtConfig({ group: jwtGroup, issuer: read.sourceOf('jwt.issuer'), audience: read.sourceOf('jwt.audience') })
  checkNats(read)
  checkTimeouts(read, tree.hubs)
  checkJetStreamConfig(tree.jetstream, read.sourceOf('jetstream.subjects'), read.sourceOf('jetstream.heartbeatMs'), read.sourceOf('jetstream.pullExpiresMs'))
  checkOfflineDeliveryConfig(tree.jetstream, read.sourceOf('jetstream.subjects'), read.sourceOf('jetstream.stream'), read.sourceOf('jetstream.offline.enabled'))
  const config = {
    ...rest,
    // Explicit means someone asked for this NATS: it is retried forever instead of being replaced.
    nats: { ...tree.nats, explicit: read.sourceOf('nats.url') !== undefined },
    ...(jwt !== undefined ? { jwt } : {}),
    topics: { ...tree.topics, source: topicRulesSource(read.sourceOf('topics.rules') !== undefined, jwt !== undefined) },
  }
  return config as ImConfig
}

function checkNats(read: SettingsRead): void {
  if ((read.valueOf('nats.user') === undefined) !== (read.valueOf('nats.pass') === undefined)) {
    throw invalid('IM_NATS_USER and IM_NATS_PASS (nats.user, nats.pass) must be set together')
  }
  if ((read.valueOf('nats.tls.certFile') === undefined) !== (read.valueOf('nats.tls.keyFile') === undefined)) {
    throw invalid('IM_NATS_TLS_CERT and IM_NATS_TLS_KEY (nats.tls.certFile, nats.tls.keyFile) must be set together')
  }
  if (read.valueOf('nats.credsFile') !== undefined && read.valueOf('nats.nkeySeedFile') !== undefined) {
    throw invalid('IM_NATS_CREDS_FILE and IM_NATS_NKEY_SEED_FILE (nats.credsFile, nats.nkeySeedFile) exclude each other: a .creds file carries its own seed')
  }
}

/** A client that pings only every keep-alive interval must not be timed out between two pings. */
function checkTimeouts(read: SettingsRead, hubs: HubOptionsConfig): void {
  if (hubs.clientTimeoutMs <= hubs.keepAliveIntervalMs) {
    throw invalid(
      `${read.sourceOf('hubs.clientTimeoutMs')?.label ?? 'IM_CLIENT_TIMEOUT_MS'} (${hubs.clientTimeoutMs}) must be greater than ` +
        `${read.sourceOf('hubs.keepAliveIntervalMs')?.label ?? 'IM_KEEP_ALIVE_MS'} (${hubs.keepAliveIntervalMs})`,
    )
  }
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
    const reason = messageOf(cause)
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
