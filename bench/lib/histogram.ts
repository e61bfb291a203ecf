/**
 * Latency histogram with log buckets 2% wide, from 1 µs to ~10 minutes: constant memory and cost
 * per sample, and mergeable across worker processes by adding counts, which exact sample lists are not.
 */
const GROWTH = 1.02
const LOG_GROWTH = Math.log(GROWTH)
const BUCKETS = 1400 // 1.02^1400 µs ≈ 10^12: far beyond any bounded run

export class Histogram {
  readonly counts = new Float64Array(BUCKETS)
  count = 0
  max = 0

  /** Records one latency in microseconds (negative values, from clock jitter, count as 0). */
  record(us: number): void {
    const value = us < 1 ? 1 : us
    const index = Math.min(BUCKETS - 1, Math.floor(Math.log(value) / LOG_GROWTH))
    this.counts[index]! += 1
    this.count += 1
    if (us > this.max) this.max = us
  }

  /** The value below which `q` (0..1) of the samples fall, at the bucket's upper edge: never flattering. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.ceil(q * this.count)
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(GROWTH ** (i + 1), this.max)
    }
    return this.max
  }

  /** Sparse form for IPC: [index, count] pairs. */
  toJSON(): { buckets: Array<[number, number]>; count: number; max: number } {
    const buckets: Array<[number, number]> = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!])
    return { buckets, count: this.count, max: this.max }
  }

  merge(other: { buckets: ReadonlyArray<readonly [number, number]>; count: number; max: number }): void {
    for (const [index, count] of other.buckets) this.counts[index]! += count
    this.count += other.count
    if (other.max > this.max) this.max = other.max
  }
}
