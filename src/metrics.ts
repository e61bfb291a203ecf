/**
 * Counters of what a node did and dropped; shown on /healthz and /metrics. A name may carry
 * Prometheus labels (`bus_payloads_invalid{subject="orders.*"}`) for counters kept per subject.
 */
export class Metrics {
  private readonly counters = new Map<string, number>()

  inc(name: string, by = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + by)
  }

  get(name: string): number {
    return this.counters.get(name) ?? 0
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counters].sort(([a], [b]) => a.localeCompare(b)))
  }
}
