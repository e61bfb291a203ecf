/**
 * Decides which JetStream stream the feed reads. NATS lets no two streams hold the same subject,
 * and services bring streams of their own: DotNetCore.CAP's NATS subscribers create a stream named
 * after the first token of their subjects (`im` for ours), in memory, holding exactly their
 * group's subjects, and since CAP 7.2 rewrite its subject list when they start.
 *
 * - The configured stream exists: it is read as it is.
 * - It is missing and no other stream holds any of our subjects: it is created.
 * - It is missing and one other stream holds all of them: that stream is read as it is.
 * - Otherwise the node cannot take its subjects from a stream without changing someone else's,
 *   and taking them from core NATS instead would quietly give up what the stream promises. The
 *   claim fails with IM_STREAM_CONFLICT, naming each stream, what it holds and what to change.
 */
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'
import type { JetStreamManager, StreamConfig, StreamInfo } from '@nats-io/jetstream'
import type { Logger } from '../logger.js'
import { ImError, ImErrorCode } from '../errors.js'
import { subjectCovers, subjectsOverlap } from './subjects.js'

/** The server's error code for a new stream whose subjects another stream holds. */
const SUBJECTS_OVERLAP = 10065

export interface StreamChoice {
  /** The stream to read. */
  readonly name: string
  /** Its current state; undefined when it is ours to create. */
  readonly info: StreamInfo | undefined
}

/** Finds the stream that holds `subjects`: the one named `stream`, or the one other stream holding all of them. */
export async function claimStream(jsm: JetStreamManager, stream: string, subjects: readonly string[]): Promise<StreamChoice> {
  const own = await streamInfo(jsm, stream)
  if (own) return { name: stream, info: own }
  // Without the right to list streams, creating ours tells the same (see createStream).
  const holders = await streamsHolding(jsm, subjects).catch(() => [])
  if (holders.length === 0) return { name: stream, info: undefined }
  const only = holders[0]!
  if (holders.length === 1 && subjects.every((subject) => subjectsOf(only).some((pattern) => subjectCovers(pattern, subject)))) {
    return { name: only.config.name, info: only }
  }
  throw new ImError(ImErrorCode.StreamConflict, conflictMessage(stream, subjects, holders))
}

/**
 * Creates our stream. Another stream may have taken some of its subjects since `claimStream`
 * looked, or this node may not list streams: that is a conflict too, never an outage.
 */
export async function createStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string; subjects: string[] }): Promise<void> {
  try {
    await jsm.streams.add(config)
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === SUBJECTS_OVERLAP)) throw error
    const holders = await streamsHolding(jsm, config.subjects).catch(() => [])
    throw new ImError(
      ImErrorCode.StreamConflict,
      holders.length > 0
        ? conflictMessage(config.name, config.subjects, holders)
        : `JetStream stream ${config.name} does not exist and cannot be created: another stream holds some of ${config.subjects.join(', ')} ` +
            `(the server says: ${error.message}), and this node may not list streams to name it. Find it with: nats stream ls`,
      { cause: error },
    )
  }
}

/** The streams whose subjects overlap any of `subjects`, by name. */
async function streamsHolding(jsm: JetStreamManager, subjects: readonly string[]): Promise<StreamInfo[]> {
  const names = new Set<string>()
  // The server filters by overlap: `im.default.send.>` finds a stream holding `im.default.send.user`.
  for (const subject of subjects) for await (const name of jsm.streams.names(subject)) names.add(name)
  const infos: StreamInfo[] = []
  for (const name of [...names].sort()) {
    const info = await streamInfo(jsm, name)
    if (info) infos.push(info)
  }
  return infos
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name)
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined
    throw error
  }
}

function subjectsOf(info: StreamInfo): readonly string[] {
  return info.config.subjects ?? []
}

/**
 * What is wrong and the ways out, in the order an operator should consider them. `nats stream
 * edit --subjects` replaces the whole list, so each command lists everything the stream keeps.
 */
export function conflictMessage(stream: string, subjects: readonly string[], holders: readonly StreamInfo[]): string {
  const lines = [
    `JetStream stream ${stream} does not exist and cannot be created: NATS lets no two streams hold one subject, and ` +
      holders.map((h) => `stream ${h.config.name} (${h.config.storage} storage) holds ${ours(h, subjects).join(', ')}`).join('; ') +
      `, while IMService takes ${subjects.join(', ')}. IMService will not change a stream it did not create, nor take these subjects from core NATS instead. Change one thing and start again:`,
  ]
  for (const holder of holders) {
    const name = holder.config.name
    const keep = subjectsOf(holder).filter((pattern) => !subjects.some((subject) => subjectsOverlap(subject, pattern)))
    lines.push(
      keep.length > 0
        ? `- if no DotNetCore.CAP subscriber (or other consumer) still reads these subjects from stream ${name}, remove them from it: nats stream edit ${name} --subjects '${keep.join(',')}'`
        : `- if no DotNetCore.CAP subscriber (or other consumer) still reads stream ${name}, remove it: nats stream rm ${name}`,
    )
  }
  if (holders.length === 1) {
    const holder = holders[0]!
    const name = holder.config.name
    const held = subjectsOf(holder).filter((pattern) => subjects.some((subject) => subjectCovers(subject, pattern)))
    if (held.length > 0) {
      lines.push(`- or read stream ${name} as it is, for the subjects it holds (the others then come from core NATS): IM_JETSTREAM_STREAM=${name} IM_JETSTREAM_SUBJECTS=${held.join(',')} (jetstream.stream and jetstream.subjects)`)
    }
    const union = [...subjectsOf(holder).filter((pattern) => !subjects.some((subject) => subjectCovers(subject, pattern))), ...subjects]
    lines.push(
      `- or let stream ${name} hold all of them: nats stream edit ${name} --subjects '${union.join(',')}' ` +
        `(a DotNetCore.CAP subscriber rewrites the subjects of stream ${name} when it starts, since CAP 7.2: add them in its NATSOptions.StreamOptions too)`,
    )
  }
  return lines.join('\n')
}

/** The subjects of `holder` that overlap ours. */
function ours(holder: StreamInfo, subjects: readonly string[]): string[] {
  return subjectsOf(holder).filter((pattern) => subjects.some((subject) => subjectsOverlap(subject, pattern)))
}

/** nats-server 2.10 takes several filter subjects on one consumer; older servers one only. */
export function supportsFilterSubjects(version: string | undefined): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? '')
  if (!match) return false
  const major = Number(match[1])
  return major > 2 || (major === 2 && Number(match[2]) >= 10)
}

export interface HeldSubjectsOptions {
  /** The configured stream name. */
  readonly stream: string
  readonly subjects: readonly string[]
  readonly duplicateWindowMs: number
  readonly logger: Logger
}

const NANOS_PER_MS = 1_000_000

/**
 * Which of our subjects an existing stream holds. A stream someone else made is used as it is:
 * the log says what it lacks, and when its duplicate window is shorter than ours.
 */
export function heldSubjects(info: StreamInfo, options: HeldSubjectsOptions): readonly string[] {
  const { subjects, logger } = options
  const stream = info.config.name
  const theirs = info.config.subjects ?? []
  const held = subjects.filter((subject) => theirs.some((pattern) => subjectCovers(pattern, subject)))
  const missing = subjects.filter((subject) => !held.includes(subject))
  if (stream !== options.stream) {
    logger.warn(
      `JetStream stream ${options.stream} does not exist; stream ${stream} (${info.config.storage} storage, made by someone else, e.g. DotNetCore.CAP subscribers) ` +
        `holds ${subjects.join(', ')}, so IMService reads that one as it is. Set jetstream.stream to ${stream} to say so.`,
      { streamSubjects: theirs },
    )
  } else if (missing.length === 0) {
    logger.info(`JetStream stream ${stream} exists and holds ${subjects.join(', ')}; using it as it is`, { streamSubjects: theirs })
  } else {
    logger.error(
      `JetStream stream ${stream} exists but does not hold ${missing.join(', ')}; IMService leaves the stream unchanged and ` +
        `takes ${missing.length === 1 ? 'that subject' : 'those subjects'} from core NATS (no catch-up). Add them to the stream or name another one.`,
      { streamSubjects: theirs },
    )
  }
  const windowMs = (info.config.duplicate_window ?? 0) / NANOS_PER_MS
  if (windowMs < options.duplicateWindowMs) {
    logger.warn(
      `JetStream stream ${stream} drops a repeated Nats-Msg-Id only within ${Math.round(windowMs / 1000)} s; IMService nodes skip repeats within ` +
        `${Math.round(options.duplicateWindowMs / 1000)} s, but other readers of the stream get a later retry twice. Raise it with: nats stream edit ${stream} --dupe-window ${Math.ceil(options.duplicateWindowMs / 1000)}s`,
    )
  }
  return held
}

