/**
 * The publishing loop of the broadcast and targeted phases: for `durationMs` (or until
 * `maxMessages`), either at a fixed rate paced by the clock, or at the maximum rate that keeps at
 * most `window` deliveries owed but not yet received in flight.
 */
import { sleep } from './procs.js'

/** A publishing phase as the broadcast and targeted workloads describe it. */
export interface PhaseSpec {
  readonly phase: number
  readonly mode: 'fixed' | 'max'
  /** Messages per second (fixed mode). */
  readonly rate?: number
  /** What may be in flight in max mode: messages for a broadcast, deliveries for targeted messages. */
  readonly window?: number
  readonly durationMs: number
  /** Stop publishing after this many messages even if time remains (the harness test's exact count). */
  readonly maxMessages?: number
  readonly drainMs: number
}

export interface PaceSpec {
  readonly mode: 'fixed' | 'max'
  /** Messages per second (fixed mode). */
  readonly rate?: number
  /** Deliveries in flight allowed (max mode). */
  readonly window: number
  readonly durationMs: number
  readonly maxMessages?: number
}

/**
 * Calls `publish(n)` for n = 0, 1, 2... and resolves with how many it published. `inFlight(n)` says
 * how many deliveries of the first n messages have not arrived yet.
 */
export async function pace(spec: PaceSpec, publish: (n: number) => void, inFlight: (published: number) => number): Promise<number> {
  const t0 = performance.now()
  const limit = spec.maxMessages ?? Number.POSITIVE_INFINITY
  let published = 0
  const running = (): boolean => performance.now() - t0 < spec.durationMs && published < limit
  if (spec.mode === 'fixed') {
    const rate = spec.rate ?? 1
    // Paced by the clock, not by timer counts: a late timer catches up instead of lowering the rate.
    while (running()) {
      const due = Math.min(limit, Math.floor(((performance.now() - t0) / 1000) * rate) + 1)
      while (published < due) publish(published++)
      await sleep(Math.min(10, 1000 / rate))
    }
  } else {
    while (running()) {
      while (published < limit && inFlight(published) < spec.window) publish(published++)
      await sleep(2)
    }
  }
  return published
}
