/**
 * Runs one connection's invocations with at most `limit` at a time, in arrival order
 * (HubOptions.MaximumParallelInvocationsPerClient, 1 by default as in ASP.NET Core).
 */
export class InvocationQueue {
  private active = 0
  private readonly waiting: Array<() => Promise<void>> = []
  private idleWaiters: Array<() => void> | undefined

  constructor(private readonly limit: number) {}

  get pending(): number {
    return this.waiting.length
  }

  /** Whether a task pushed now would have to wait. */
  get saturated(): boolean {
    return this.active >= this.limit
  }

  /** Resolves once no task runs or waits. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve()
    return new Promise((resolve) => (this.idleWaiters ??= []).push(resolve))
  }

  push(task: () => Promise<void>): void {
    if (this.active < this.limit) this.run(task)
    else this.waiting.push(task)
  }

  private run(task: () => Promise<void>): void {
    this.active++
    // Tasks handle their own errors; the catch only keeps the queue moving.
    let running: Promise<void>
    try {
      running = task()
    } catch (error) {
      // A task that throws before returning its promise must not stall the queue.
      running = Promise.reject(error)
    }
    running
      .catch(() => {})
      .finally(() => {
        this.active--
        const next = this.waiting.shift()
        if (next) this.run(next)
        else if (this.active === 0 && this.idleWaiters) {
          for (const resolve of this.idleWaiters) resolve()
          this.idleWaiters = undefined
        }
      })
  }
}
