/**
 * Counting as nats-server's own tests do: every message carries a sequence number; each receiver
 * marks what it got, so lost = intended − unique and duplicated = receipts − unique, exactly.
 * A message is either accepted (its publisher's flush came back: NATS has it), refused (not sent:
 * the publisher knew NATS was down) or unconfirmed (sent, but the flush failed, so NATS may or may
 * not have it). Only accepted messages count towards "lost"; the others are reported apart.
 */
import type { NatsConnection } from '@nats-io/transport-node'
import { until } from './common.js'

export const ALL = -1
const ACCEPTED = 1
const REFUSED = 2
const UNCONFIRMED = 3

export interface LedgerSummary {
  /** Messages the publisher tried to send. */
  readonly published: number
  readonly accepted: number
  /** Not sent: the publisher's NATS connection was down (the service gets an error). */
  readonly refused: number
  /** Sent, flush failed: NATS may or may not have had them. */
  readonly unconfirmed: number
  /** Deliveries the accepted messages owed (one per intended recipient). */
  readonly owed: number
  /** Every receipt, duplicates included. */
  readonly delivered: number
  readonly lost: number
  readonly duplicated: number
  /** Deliveries of unconfirmed messages (they may arrive after NATS comes back). */
  readonly unconfirmedDelivered: number
}

export class Ledger {
  /** Waits (at most `ms`) until deliveries stop changing: the last messages have landed. */
  async settled(ms = 3000): Promise<void> {
    let last = -1
    await until(() => {
      const now = this.summary().delivered
      const still = now === last
      last = now
      return still
    }, ms, 300)
  }

  private readonly sentAt: Float64Array
  private readonly target: Int32Array
  private readonly state: Uint8Array
  private readonly receipts: Uint8Array[]
  private next = 0

  constructor(
    readonly clients: number,
    readonly capacity: number,
  ) {
    this.sentAt = new Float64Array(capacity)
    this.target = new Int32Array(capacity)
    this.state = new Uint8Array(capacity)
    this.receipts = Array.from({ length: clients }, () => new Uint8Array(capacity))
  }

  get full(): boolean {
    return this.next >= this.capacity
  }

  /** A new sequence number for a message to `target` (a client index, or ALL). */
  take(target: number): number {
    const seq = this.next++
    this.target[seq] = target
    this.sentAt[seq] = performance.now()
    return seq
  }

  accept(seq: number): void {
    this.state[seq] = ACCEPTED
  }

  refuse(seq: number): void {
    this.state[seq] = REFUSED
  }

  unconfirm(seq: number): void {
    this.state[seq] = UNCONFIRMED
  }

  /** Called by receiver `client` for message `seq`. */
  receive(client: number, seq: number): void {
    if (seq >= 0 && seq < this.next) {
      const row = this.receipts[client]!
      if (row[seq]! < 255) row[seq]!++
    }
  }

  /** Receipts of `seq` over every client. */
  receiptsOf(seq: number): number {
    let sum = 0
    for (const row of this.receipts) sum += row[seq]!
    return sum
  }

  /** performance.now() when `seq` was handed to NATS. */
  timeOf(seq: number): number {
    return this.sentAt[seq]!
  }

  /**
   * Lost deliveries of accepted messages, each with the client and send time, so a scenario can
   * say which fell in a window where loss is the documented outcome.
   */
  *lostDeliveries(): Generator<{ client: number; seq: number; at: number }> {
    for (let seq = 0; seq < this.next; seq++) {
      if (this.state[seq] !== ACCEPTED) continue
      const target = this.target[seq]!
      for (let client = target === ALL ? 0 : target; client < (target === ALL ? this.clients : target + 1); client++) {
        if (this.receipts[client]![seq] === 0) yield { client, seq, at: this.sentAt[seq]! }
      }
    }
  }

  summary(): LedgerSummary {
    let accepted = 0, refused = 0, unconfirmed = 0, owed = 0, delivered = 0, lost = 0, duplicated = 0, unconfirmedDelivered = 0
    for (let seq = 0; seq < this.next; seq++) {
      const state = this.state[seq]
      const target = this.target[seq]!
      const first = target === ALL ? 0 : target
      const end = target === ALL ? this.clients : target + 1
      if (state === ACCEPTED) accepted++
      else if (state === REFUSED) refused++
      else unconfirmed++
      for (let client = first; client < end; client++) {
        const got = this.receipts[client]![seq]!
        delivered += got
        if (got > 1) duplicated += got - 1
        if (state === ACCEPTED) {
          owed++
          if (got === 0) lost++
        } else if (got > 0) unconfirmedDelivered += 1
      }
    }
    // Receipts for a client a message was not meant for would be misdelivery: count them as duplicates.
    for (let client = 0; client < this.clients; client++) {
      const row = this.receipts[client]!
      for (let seq = 0; seq < this.next; seq++) {
        const target = this.target[seq]!
        if (row[seq]! > 0 && target !== ALL && target !== client) duplicated += row[seq]!
      }
    }
    return { published: this.next, accepted, refused, unconfirmed, owed, delivered, lost, duplicated, unconfirmedDelivered }
  }
}

/**
 * A service publishing through its own NATS connection. nats.js would buffer publishes while
 * disconnected and send them later; a service that checks the connection first gets an error
 * instead, which is what we model: while down, messages are refused, not buffered. Each batch is
 * confirmed by a flush (a PING/PONG after the PUBs, so the server has them all).
 */
export class SeqPublisher {
  private up = true
  private readonly confirmations = new Set<Promise<void>>()

  constructor(
    private readonly nc: NatsConnection,
    private readonly ledger: Ledger,
  ) {
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') this.up = false
        else if (status.type === 'reconnect') this.up = true
      }
    })()
  }

  get connected(): boolean {
    return this.up && !this.nc.isClosed()
  }

  /** Publishes one batch: `make(seq)` gives subject and payload for each target. */
  batch(targets: readonly number[], make: (seq: number, target: number) => { subject: string; payload: string }): void {
    const sent: number[] = []
    for (const target of targets) {
      if (this.ledger.full) return
      const seq = this.ledger.take(target)
      if (!this.connected) {
        this.ledger.refuse(seq)
        continue
      }
      const { subject, payload } = make(seq, target)
      try {
        this.nc.publish(subject, payload)
        sent.push(seq)
      } catch {
        this.ledger.refuse(seq)
      }
    }
    if (sent.length === 0) return
    const confirmation = withTimeout(this.nc.flush(), 1000).then(
      (ok) => sent.forEach((seq) => (ok ? this.ledger.accept(seq) : this.ledger.unconfirm(seq))),
      () => sent.forEach((seq) => this.ledger.unconfirm(seq)),
    )
    this.confirmations.add(confirmation)
    void confirmation.finally(() => this.confirmations.delete(confirmation))
  }

  /** Waits for every batch to be confirmed or given up on. */
  async settled(): Promise<void> {
    await Promise.all([...this.confirmations])
  }
}

function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
