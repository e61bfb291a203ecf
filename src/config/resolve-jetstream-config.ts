/**
 * The JetStream part of the configuration: off unless asked for. Durable forwarding is on for the
 * subjects in `forward`; the stream feed is on when `stream` is named, with the DefaultHub's
 * service subjects unless `subjects` says otherwise.
 */
import type { JetStreamConfig } from './config.js'
import type { SettingKind } from './setting-kinds.js'
import { listOf, matching } from './setting-kinds.js'
import { invalid, show, type SettingSource } from './config-values.js'

/** What services publish to the DefaultHub (docs/service-api.md): the subjects worth a stream. */
export const DEFAULT_STREAM_SUBJECTS = ['im.default.send', 'im.default.send.>', 'im.default.groups.>'] as const

/** Stream names become subject tokens of the JetStream API: no '.', wildcards or whitespace. */
export function streamName(): SettingKind<string> {
  return matching(/^[A-Za-z0-9_-]{1,64}$/, "be a stream name of letters, digits, '_' or '-' (at most 64)", "stream name: letters, digits, '_', '-'")
}

/** `auto`, or a replica count JetStream accepts (1 to 5). */
export function streamReplicas(): SettingKind<number | 'auto'> {
  return {
    values: 'auto, or 1 to 5',
    read(source) {
      const { value } = source
      if (value === 'auto' || (typeof value === 'string' && value.trim() === 'auto')) return 'auto'
      const parsed = typeof value === 'number' && !source.fromEnv ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN
      if (!Number.isInteger(parsed) || parsed < 1 || parsed > 5) throw invalid(`${source.label} must be auto or an integer from 1 to 5, got ${show(value)}`)
      return parsed
    },
  }
}

/** KV bucket names: the stream is `KV_<name>`, the subjects `$KV.<name>.>`. */
export function kvBucketName(): SettingKind<string> {
  return matching(/^[A-Za-z0-9_-]{1,61}$/, "be a KV bucket name of letters, digits, '_' or '-' (at most 61)", "bucket name: letters, digits, '_', '-'")
}

/** NATS subjects, wildcards allowed. */
export function subjectList(): SettingKind<readonly string[]> {
  return listOf('list of NATS subjects', (subject, source) => {
    const problem = subjectProblem(subject)
    if (problem) throw invalid(`${source.label} must list NATS subjects: ${show(subject)} is not valid (${problem})`)
    return subject
  })
}

/** A stream needs subjects to take; the server refuses a pull whose heartbeat is over half its life. */
export function checkJetStreamConfig(jetstream: JetStreamConfig, subjects: SettingSource | undefined, heartbeat?: SettingSource, expires?: SettingSource): void {
  if (jetstream.stream !== undefined && jetstream.subjects.length === 0) throw invalid(`${subjects?.label} must name at least one subject when a stream is set`)
  if (jetstream.heartbeatMs * 2 > jetstream.pullExpiresMs) {
    throw invalid(
      `${heartbeat?.label ?? 'IM_JETSTREAM_HEARTBEAT_MS'} (${jetstream.heartbeatMs}) must be at most half of ${expires?.label ?? 'IM_JETSTREAM_PULL_EXPIRES_MS'} (${jetstream.pullExpiresMs})`,
    )
  }
}

/** The subjects offline delivery takes durable user messages from, one per hub: `im.<hub>.send.user`. */
const OFFLINE_SOURCE_SUBJECTS = ['im', '*', 'send', 'user'] as const

/**
 * Offline delivery needs a stream that captures the user messages of at least one hub, or those
 * published while no node runs could not be kept. Which hubs it serves is decided at start, with
 * the hubs (server/offline-delivery.ts).
 */
export function checkOfflineDeliveryConfig(jetstream: JetStreamConfig, subjects: SettingSource | undefined, stream?: SettingSource, offline?: SettingSource): void {
  if (!jetstream.offline.enabled) return
  const flag = offline?.label ?? 'IM_OFFLINE_DELIVERY'
  if (jetstream.stream === undefined) {
    throw invalid(`${flag} needs a JetStream stream holding the hubs' im.<hub>.send.user: set ${stream?.label ?? 'IM_JETSTREAM_STREAM'} (its default subjects hold im.default.send.user)`)
  }
  if (!jetstream.subjects.some(holdsSomeUserSubject)) {
    throw invalid(`${flag} needs a hub's im.<hub>.send.user (such as im.default.send.user) among ${subjects?.label ?? 'IM_JETSTREAM_SUBJECTS'} (now ${jetstream.subjects.join(', ')})`)
  }
  if (jetstream.offline.stream === jetstream.stream) throw invalid(`the offline store stream must not be the stream ${jetstream.stream} that captures the messages`)
}

/** True when the subject pattern matches `im.<hub>.send.user` for some hub. */
function holdsSomeUserSubject(pattern: string): boolean {
  const p = pattern.split('.')
  const s = OFFLINE_SOURCE_SUBJECTS
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return s.length > i
    if (i >= s.length || (p[i] !== '*' && s[i] !== '*' && p[i] !== s[i])) return false
  }
  return p.length === s.length
}

/**
 * Why a configured subject is unusable. The config layer may not import the bus (see
 * test/architecture.test.ts), so this repeats the essentials of its rule: no empty tokens, no
 * whitespace, wildcards as whole tokens and `>` last.
 */
function subjectProblem(subject: string): string | undefined {
  const tokens = subject.split('.')
  if (/[\u0000-\u0020\u007f]/.test(subject)) return 'whitespace or control characters'
  if (tokens.some((token) => token === '')) return 'empty tokens'
  if (tokens.some((token) => token !== '*' && token !== '>' && /[*>]/.test(token))) return "'*' and '>' must be whole tokens"
  if (tokens.slice(0, -1).includes('>')) return "'>' must be the last token"
  return undefined
}
