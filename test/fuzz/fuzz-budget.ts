/**
 * The fuzz budget shared by test/fuzz: every property has a fixed seed and a small run count, so
 * `npm test` stays fast and replays the same inputs; `IM_FUZZ_RUNS` multiplies the counts for a
 * longer run on demand (`npm run fuzz` uses 50), and `IM_FUZZ_SEED` explores other inputs. A
 * failure prints the seed and path to replay it (https://fast-check.dev/docs/tutorials/quick-start/).
 */
function positive(name: string, fallback: number): number {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number (got '${raw}')`)
  return value
}

/** The multiplier of every property's run count (default 1). */
export const FUZZ_MULTIPLIER = positive('IM_FUZZ_RUNS', 1)

const seedOverride = process.env.IM_FUZZ_SEED === undefined || process.env.IM_FUZZ_SEED === '' ? undefined : Math.trunc(positive('IM_FUZZ_SEED', 1))

/** `fc.assert` parameters: `baseRuns` times the multiplier, with this property's own seed. */
export function budget(seed: number, baseRuns: number): { seed: number; numRuns: number } {
  return { seed: seedOverride ?? seed, numRuns: Math.max(1, Math.round(baseRuns * FUZZ_MULTIPLIER)) }
}

/** A test timeout that grows with the budget: the CI budget keeps `baseMs`. */
export function timeoutFor(baseMs: number): number {
  return Math.round(baseMs * Math.max(1, FUZZ_MULTIPLIER))
}
