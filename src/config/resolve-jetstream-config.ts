/**
 * The JetStream part of the configuration: off unless asked for. Durable forwarding is on for the
 * subjects in `forward`; the stream feed is on when `stream` is named, with the DefaultHub's
 * service subjects unless `subjects` says otherwise.
 */
import type { ImConfigInput, JetStreamConfig } from './config.js'
import { invalid, readInteger, readList, readString, settingSource, show, type Env, type SettingSource } from './config-values.js'

/** What services publish to the DefaultHub (docs/service-api.md): the subjects worth a stream. */
export const DEFAULT_STREAM_SUBJECTS = ['im.default.send', 'im.default.send.>', 'im.default.groups.>'] as const

// Stream names become subject tokens of the JetStream API: no '.', wildcards or whitespace.
const STREAM_NAME = /^[A-Za-z0-9_-]{1,64}$/
const MAX_TIMER_MS = 2_147_483_647
const HOUR_MS = 3_600_000

export function resolveJetStreamConfig(input: ImConfigInput['jetstream'], env: Env): JetStreamConfig {
  const at = (fileValue: unknown, key: string, envVar: string): SettingSource | undefined => settingSource(env, fileValue, { key: `jetstream.${key}`, envVar })
  const subjectList = (source: SettingSource | undefined): readonly string[] | undefined => {
    const list = readList(source)
    for (const subject of list ?? []) {
      const problem = subjectProblem(subject)
      if (problem) throw invalid(`${source?.label} must list NATS subjects: ${show(subject)} is not valid (${problem})`)
    }
    return list
  }
  const streamSource = at(input?.stream, 'stream', 'IM_JETSTREAM_STREAM')
  const stream = readString(streamSource)
  if (stream !== undefined && !STREAM_NAME.test(stream)) {
    throw invalid(`${streamSource?.label} must be a stream name of letters, digits, '_' or '-' (at most 64), got ${show(stream)}`)
  }
  const subjectsSource = at(input?.subjects, 'subjects', 'IM_JETSTREAM_SUBJECTS')
  const subjects = subjectList(subjectsSource) ?? DEFAULT_STREAM_SUBJECTS
  if (stream !== undefined && subjects.length === 0) throw invalid(`${subjectsSource?.label} must name at least one subject when a stream is set`)
  return {
    forward: Object.freeze([...(subjectList(at(input?.forward, 'forward', 'IM_JETSTREAM_FORWARD')) ?? [])]),
    ...(stream !== undefined ? { stream } : {}),
    subjects: Object.freeze([...subjects]),
    publishTimeoutMs: readInteger(at(input?.publishTimeoutMs, 'publishTimeoutMs', 'IM_JETSTREAM_PUBLISH_TIMEOUT_MS'), 1, MAX_TIMER_MS) ?? 5000,
    // The server refuses a duplicate window under 100 ms or longer than the stream's max age.
    duplicateWindowMs: readInteger(at(input?.duplicateWindowMs, 'duplicateWindowMs', 'IM_JETSTREAM_DUPLICATE_WINDOW_MS'), 100, MAX_TIMER_MS) ?? 120_000,
    maxAgeMs: readInteger(at(input?.maxAgeMs, 'maxAgeMs', 'IM_JETSTREAM_MAX_AGE_MS'), 1000, Number.MAX_SAFE_INTEGER / 1_000_000) ?? HOUR_MS,
    consumerInactiveMs: readInteger(at(input?.consumerInactiveMs, 'consumerInactiveMs', 'IM_JETSTREAM_CONSUMER_INACTIVE_MS'), 1000, Number.MAX_SAFE_INTEGER / 1_000_000) ?? HOUR_MS,
  }
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
