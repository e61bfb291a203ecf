/**
 * Delivery shaping, against the refresh storm: a "data changed, refresh" push makes every client
 * query the services at the same instant. Spreading hands one message to its recipients in slices
 * over a window; collapsing keeps only the last of several messages with the same key inside a
 * window. Timers only, no I/O: one live timer per spreading message (each slice schedules the
 * next, never one per connection) and one per open collapse slot, both counts bounded so that a
 * publisher cannot exhaust memory. The contract is in docs/service-api.md ("Sparing your
 * services the refresh storm").
 */

/** How to deliver one message; every field is optional and absent means "at once". */
export interface DeliveryShaping {
  /** Hand the message to its recipients spread evenly over this many ms (0 to 60 000). */
  readonly spreadMs?: number
  /** Messages with the same key and target inside the window reach each connection once: the last. */
  readonly collapseKey?: string
  /** The collapse window, opened by the first message of a key (1 to 60 000 ms, default 1000). */
  readonly collapseWindowMs?: number
  /**
   * Set for a durable user message (offline delivery): its sequence in the stream that captured it,
   * `SubscriptionContext.sequence`. Each connection of the user gets it once, in that order, and
   * it moves the user's cursor. It excludes spreading and collapsing.
   */
  readonly durableSequence?: number
}

export const ShapingLimits = {
  maxSpreadMs: 60_000,
  maxCollapseWindowMs: 60_000,
  defaultCollapseWindowMs: 1000,
  maxCollapseKeyLength: 256,
} as const

/** Shaping fields as read from the wire, not yet checked. */
export type UncheckedShaping = { readonly [K in keyof DeliveryShaping]?: unknown }

/** The first problem with `shaping`, worded for the IM_INVALID_PAYLOAD drop reason; undefined if none. */
export function shapingProblem(shaping: UncheckedShaping): string | undefined {
  const { spreadMs, collapseKey, collapseWindowMs, durableSequence } = shaping
  if (durableSequence !== undefined) {
    if (typeof durableSequence !== 'number' || !Number.isSafeInteger(durableSequence) || durableSequence < 1) return '"durableSequence" must be a positive integer'
    if (spreadMs || collapseKey !== undefined) return 'a durable message is delivered at once: it takes no "spreadMs", "collapseKey" or "collapseWindowMs"'
  }
  if (spreadMs !== undefined && !isIntegerIn(spreadMs, 0, ShapingLimits.maxSpreadMs)) {
    return `"spreadMs" must be an integer from 0 to ${ShapingLimits.maxSpreadMs}`
  }
  if (collapseKey !== undefined && (typeof collapseKey !== 'string' || collapseKey.length === 0 || collapseKey.length > ShapingLimits.maxCollapseKeyLength)) {
    return `"collapseKey" must be a non-empty string of at most ${ShapingLimits.maxCollapseKeyLength} characters`
  }
  if (collapseWindowMs !== undefined) {
    if (!isIntegerIn(collapseWindowMs, 1, ShapingLimits.maxCollapseWindowMs)) {
      return `"collapseWindowMs" must be an integer from 1 to ${ShapingLimits.maxCollapseWindowMs}`
    }
    if (collapseKey === undefined) return '"collapseWindowMs" needs a "collapseKey"'
  }
  return undefined
}

function isIntegerIn(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
}

export interface DeliveryShaperOptions {
  /** Collapse slots open at once; a message with a new key beyond this is delivered at once. */
  readonly maxCollapseSlots?: number
  /** Spreading messages in flight at once; one beyond this is delivered at once. */
  readonly maxPendingSpreads?: number
  /** Aimed-for time between two slices; a spread has at most one slice per recipient. */
  readonly sliceIntervalMs?: number
  /** Called when handing a message to a recipient throws (the other recipients still get it). */
  readonly onError?: (error: unknown) => void
}

export interface ShapingStats {
  readonly pendingSpreads: number
  readonly openCollapseSlots: number
  /** Messages replaced by a later one with the same key inside its window. */
  readonly collapsed: number
  /** Messages delivered at once because `maxCollapseSlots` slots were open. */
  readonly collapseOverflows: number
  /** Messages delivered at once because `maxPendingSpreads` spreads were in flight. */
  readonly spreadOverflows: number
}

interface CollapseSlot {
  deliver: () => void
  readonly timer: NodeJS.Timeout
}

export class DeliveryShaper {
  private readonly slots = new Map<string, CollapseSlot>()
  /** The timer of each spread in flight (replaced as each slice schedules the next). */
  private readonly spreads = new Set<{ timer?: NodeJS.Timeout }>()
  private readonly maxSlots: number
  private readonly maxSpreads: number
  private readonly sliceIntervalMs: number
  private readonly onError: (error: unknown) => void
  private collapsed = 0
  private collapseOverflows = 0
  private spreadOverflows = 0

  constructor(options: DeliveryShaperOptions = {}) {
    this.maxSlots = options.maxCollapseSlots ?? 10_000
    this.maxSpreads = options.maxPendingSpreads ?? 1000
    this.sliceIntervalMs = options.sliceIntervalMs ?? 20
    this.onError = options.onError ?? (() => undefined)
  }

  get stats(): ShapingStats {
    return {
      pendingSpreads: this.spreads.size,
      openCollapseSlots: this.slots.size,
      collapsed: this.collapsed,
      collapseOverflows: this.collapseOverflows,
      spreadOverflows: this.spreadOverflows,
    }
  }

  /**
   * The first message of `key` opens a window of `windowMs`; later ones replace its `deliver`;
   * at the end of the window the last `deliver` runs once. A window is fixed from its first
   * message (later messages do not extend it), so a steady stream still gets through once a window.
   */
  collapse(key: string, windowMs: number, deliver: () => void): void {
    const slot = this.slots.get(key)
    if (slot) {
      slot.deliver = deliver
      this.collapsed++
      return
    }
    if (this.slots.size >= this.maxSlots) {
      this.collapseOverflows++
      this.guard(deliver)
      return
    }
    const timer = setTimeout(() => {
      this.slots.delete(key)
      this.guard(opened.deliver)
    }, windowMs)
    // A pending slot must not keep a stopping process alive; dispose() drops it.
    timer.unref()
    const opened: CollapseSlot = { deliver, timer }
    this.slots.set(key, opened)
  }

  /**
   * Hands the message to `recipients` in slices evenly spread over `spreadMs`: slice i of n goes
   * at i * spreadMs / n (the first at once). A recipient for which `isLive` is false when its
   * slice comes (a closed connection) is skipped. Returns how many recipients are scheduled.
   */
  spread<T>(recipients: readonly T[], spreadMs: number, send: (recipient: T) => void, isLive: (recipient: T) => boolean): number {
    const total = recipients.length
    const slices = Math.min(total, Math.max(1, Math.round(spreadMs / this.sliceIntervalMs)))
    if (slices <= 1 || this.spreads.size >= this.maxSpreads) {
      if (slices > 1) this.spreadOverflows++
      this.sendSlice(recipients, 0, total, send, isLive)
      return total
    }
    // Slice times are taken from the start, not from the previous slice, so late timers on a busy
    // event loop do not push the end of the window out.
    const start = Date.now()
    const pending: { timer?: NodeJS.Timeout } = {}
    const run = (slice: number): void => {
      this.sendSlice(recipients, Math.floor((slice * total) / slices), Math.floor(((slice + 1) * total) / slices), send, isLive)
      const next = slice + 1
      if (next === slices) {
        this.spreads.delete(pending)
        return
      }
      const due = start + (next * spreadMs) / slices
      pending.timer = setTimeout(() => run(next), Math.max(0, due - Date.now())).unref()
    }
    this.spreads.add(pending)
    run(0)
    return total
  }

  /** Cancels everything pending: messages still in a collapse window or spreading are not delivered. */
  dispose(): void {
    for (const slot of this.slots.values()) clearTimeout(slot.timer)
    this.slots.clear()
    for (const spread of this.spreads) clearTimeout(spread.timer)
    this.spreads.clear()
  }

  private sendSlice<T>(recipients: readonly T[], from: number, to: number, send: (recipient: T) => void, isLive: (recipient: T) => boolean): void {
    for (let i = from; i < to; i++) {
      const recipient = recipients[i]!
      if (isLive(recipient)) this.guard(() => send(recipient))
    }
  }

  /** Runs in a timer: an exception here would end the process, so it goes to `onError`. */
  private guard(action: () => void): void {
    try {
      action()
    } catch (error) {
      this.onError(error)
    }
  }
}
