/**
 * Headers that let DotNetCore.CAP subscribers consume what IMService publishes. CAP's NATS
 * consumer reads `cap-msg-id` unconditionally (a message without it is refused and redelivered
 * forever) and keeps the others in its received-message store. `cap-msg-group` is never written:
 * CAP's subscriber fills it with its own group.
 */
import { createHash } from 'node:crypto'

export const CAP_MSG_ID = 'cap-msg-id'
export const CAP_MSG_NAME = 'cap-msg-name'
export const CAP_MSG_TYPE = 'cap-msg-type'
export const CAP_CORR_ID = 'cap-corr-id'
export const CAP_CORR_SEQ = 'cap-corr-seq'
export const CAP_SENT_TIME = 'cap-senttime'

/** The type names CAP sees in `cap-msg-type` (the .NET type name a CAP publisher writes there). */
export const ENVELOPE_TYPE_NAME = 'IMService.InvocationEnvelope'
export const LIFECYCLE_TYPE_NAME = 'IMService.LifecycleEvent'
export const MESSAGE_TYPE_NAME = 'IMService.Message'

/** 2020-01-01T00:00:00Z: 41 bits of milliseconds from here last until 2089. */
const EPOCH_MS = 1_577_836_800_000n
const NODE_BITS = 10n
const SEQUENCE_BITS = 12n
const SEQUENCE_MASK = (1n << SEQUENCE_BITS) - 1n
const POSITIVE_63_BITS = (1n << 63n) - 1n

/**
 * Snowflake-like ids (as CAP makes its own): milliseconds since 2020 << 22 | 10 bits of the node id
 * | a 12-bit sequence, as a decimal string; unique per node, increasing.
 */
export class CapIdGenerator {
  private readonly nodeBits: bigint
  private lastMs = 0n
  private sequence = 0n

  constructor(nodeId: string) {
    this.nodeBits = BigInt(createHash('sha256').update(nodeId).digest().readUInt16BE(0)) & ((1n << NODE_BITS) - 1n)
  }

  next(): string {
    let ms = BigInt(Date.now()) - EPOCH_MS
    if (ms < this.lastMs) ms = this.lastMs
    if (ms === this.lastMs) {
      this.sequence = (this.sequence + 1n) & SEQUENCE_MASK
      // 4096 ids in one millisecond: borrow the next millisecond rather than repeat an id.
      if (this.sequence === 0n) ms += 1n
    } else {
      this.sequence = 0n
    }
    this.lastMs = ms
    return ((ms << (NODE_BITS + SEQUENCE_BITS)) | (this.nodeBits << SEQUENCE_BITS) | this.sequence).toString()
  }
}

/**
 * A numeric id that names `key` (a call's `<connectionId>:<invocationId>`): the same call sent
 * again yields the same id, so it can be the `Nats-Msg-Id` a stream deduplicates on.
 */
export function capIdOf(key: string): string {
  return (createHash('sha256').update(key).digest().readBigUInt64BE(0) & POSITIVE_63_BITS).toString()
}

/** `DateTimeOffset.ToString()` under the invariant culture, in UTC: `MM/dd/yyyy HH:mm:ss +00:00`, which CAP parses back. */
export function capSentTime(date: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(date.getUTCMonth() + 1)}/${two(date.getUTCDate())}/${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +00:00`
}

/** The CAP headers of one message on `subject`. */
export function capHeaders(subject: string, id: string, typeName: string, now: Date = new Date()): Record<string, string> {
  return {
    [CAP_MSG_ID]: id,
    [CAP_MSG_NAME]: subject,
    [CAP_MSG_TYPE]: typeName,
    [CAP_CORR_ID]: id,
    [CAP_CORR_SEQ]: '0',
    [CAP_SENT_TIME]: capSentTime(now),
  }
}

/** How IMService shapes what it publishes for services. */
export interface OutboundFormat {
  /** Write the CAP headers on forwarded envelopes, hub publishes and lifecycle events. */
  readonly capHeaders: boolean
  /** `pascal`: envelopes and events with PascalCase properties, for case-sensitive .NET binding. */
  readonly envelopeCasing: 'camel' | 'pascal'
  readonly ids: CapIdGenerator
}

/** `{ connectionId: ... }` as `{ ConnectionId: ... }` (top-level properties only: arguments stay as the client sent them). */
export function pascalKeys(value: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(value)) out[key.charAt(0).toUpperCase() + key.slice(1)] = item
  return out
}
