/**
 * DotNetCore.CAP's NATS transport as it looks on the wire, for tests: its streams, its publishes
 * and its subscribers, built from what CAP's source does (src/DotNetCore.CAP.NATS and the core's
 * publisher, in CAP 7 and 8), so that IMService can be checked against it without .NET.
 */
import { AckPolicy, DeliverPolicy, StorageType, jetstream } from '@nats-io/jetstream'
import type { JetStreamManager, PubAck, StreamInfo } from '@nats-io/jetstream'
import { createInbox, headers } from '@nats-io/transport-node'
import type { Msg, NatsConnection } from '@nats-io/transport-node'

/**
 * The stream a CAP subscriber creates for its group's subjects: named after their first token,
 * in memory, with the server's defaults otherwise (a 2-minute duplicate window).
 */
export function capStream(jsm: JetStreamManager, name: string, subjects: readonly string[]): Promise<StreamInfo> {
  return jsm.streams.add({ name, subjects: [...subjects], storage: StorageType.Memory, no_ack: false })
}

const SNOWFLAKE_EPOCH_MS = 1_288_834_974_657n
let sequence = 0n

/** A numeric snowflake id as CAP's `SnowflakeId` makes them: ms since its epoch << 22 | worker << 12 | sequence. */
export function capMessageId(worker = 1n): string {
  sequence = (sequence + 1n) & 0xfffn
  return (((BigInt(Date.now()) - SNOWFLAKE_EPOCH_MS) << 22n) | (worker << 12n) | sequence).toString()
}

/** `DateTimeOffset.Now.ToString()` of a .NET service in UTC+08:00 under the invariant culture. */
function dotnetNow(): string {
  const local = new Date(Date.now() + 8 * 3_600_000)
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${two(local.getUTCMonth() + 1)}/${two(local.getUTCDate())}/${local.getUTCFullYear()} ${two(local.getUTCHours())}:${two(local.getUTCMinutes())}:${two(local.getUTCSeconds())} +08:00`
}

export interface CapPublishOptions {
  /** `cap-msg-id`; a retry sends the same one again. */
  readonly id?: string
  /** `cap-msg-type`: the .NET type name of the published object. */
  readonly typeName?: string
}

/**
 * `ICapPublisher.PublishAsync(subject, value)`: the headers in the order CAP writes them, then
 * `Nats-Msg-Id` = `cap-msg-id`, through JetStream, waiting for the stream's acknowledgement.
 * `body` is the object as System.Text.Json writes it by default (PascalCase properties).
 */
export async function capPublish(nc: NatsConnection, subject: string, body: object, options: CapPublishOptions = {}): Promise<PubAck & { id: string }> {
  const id = options.id ?? capMessageId()
  const h = headers()
  // A publish without a callback still carries the header, empty.
  h.set('cap-callback-name', '')
  h.set('cap-msg-id', id)
  h.set('cap-corr-id', id)
  h.set('cap-corr-seq', '0')
  h.set('cap-msg-name', subject)
  h.set('cap-msg-type', options.typeName ?? 'DefaultBroadcastEto')
  h.set('cap-senttime', dotnetNow())
  h.set('Nats-Msg-Id', id)
  const ack = await jetstream(nc).publish(subject, JSON.stringify(body), { headers: h })
  return Object.assign(ack, { id })
}

/** CAP's `Helper.Normalized`: `>`, `.`, space and `*` become `_` (a NATS name allows none of them). */
export function capNormalized(name: string): string {
  return name.replace(/[>. *]/g, '_')
}

export interface CapDelivery {
  readonly subject: string
  readonly headers: ReadonlyMap<string, string>
  readonly body: unknown
  readonly redelivered: boolean
  /** What the subscriber answered: CAP acknowledges after its handler ran, and refuses (nak) a message it cannot read. */
  readonly outcome: 'ack' | 'nak'
}

export interface CapSubscriber {
  readonly queue: string
  readonly durable: string
  readonly deliveries: CapDelivery[]
  stop(): Promise<void>
}

/**
 * A `[CapSubscribe(subject, Group = group)]` handler's consumer: CAP appends its version to the
 * group (`<group>.v1`), normalizes it into the queue (deliver) group and names the durable
 * consumer `<queue>-<subject>`, normalized; push, explicit ack, 30 s ack wait, new messages only.
 * A message without `cap-msg-id` makes CAP throw before the handler runs, and it naks: NATS
 * delivers it again at once, without limit.
 */
export async function capSubscriber(nc: NatsConnection, jsm: JetStreamManager, stream: string, subject: string, group: string, version = 'v1'): Promise<CapSubscriber> {
  const queue = capNormalized(`${group}.${version}`)
  const durable = capNormalized(`${queue}-${subject}`)
  const deliverSubject = createInbox()
  await jsm.consumers.add(stream, {
    durable_name: durable,
    deliver_subject: deliverSubject,
    deliver_group: queue,
    deliver_policy: DeliverPolicy.New,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 30_000_000_000,
    filter_subject: subject,
  })
  const deliveries: CapDelivery[] = []
  const sub = nc.subscribe(deliverSubject, {
    queue,
    callback: (_error, msg: Msg) => {
      const map = new Map<string, string>()
      for (const key of msg.headers?.keys() ?? []) map.set(key, msg.headers!.get(key))
      const ok = map.has('cap-msg-id')
      const redelivered = /^\$JS\.ACK\.[^.]+\.[^.]+\.(\d+)\./.exec(msg.reply ?? '')?.[1] !== '1'
      deliveries.push({ subject: msg.subject, headers: map, body: ok ? msg.json() : undefined, redelivered, outcome: ok ? 'ack' : 'nak' })
      msg.respond(ok ? '+ACK' : '-NAK')
    },
  })
  await nc.flush()
  return {
    queue,
    durable,
    deliveries,
    stop: async () => {
      sub.unsubscribe()
      await jsm.consumers.delete(stream, durable).catch(() => undefined)
    },
  }
}
