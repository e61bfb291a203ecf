/**
 * What a test waits for: items recorded as they arrive (a client method's calls, the messages on
 * a subject) and read in order with `next()`, each wait bounded. `Inbox` (clients.ts) and
 * `Listener` (service.ts) only feed one.
 */

/** `promise`, or an error naming `what` once `ms` have passed. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export class Recorder<T> {
  /** Everything recorded so far, in order of arrival. */
  readonly received: T[] = []
  private read = 0
  private waiters: Array<() => void> = []

  /** `what` names an item in the error of a wait that timed out: `a call of "send"`. */
  constructor(private readonly what: string) {}

  record(item: T): void {
    this.received.push(item)
    for (const waiter of this.waiters.splice(0)) waiter()
  }

  /** The next item not yet read, waiting at most `timeoutMs` for it to arrive. */
  next(timeoutMs = 5000): Promise<T> {
    const index = this.read++
    if (index < this.received.length) return Promise.resolve(this.received[index]!)
    const arrived = new Promise<T>((resolve) => {
      const check = (): void => {
        if (index < this.received.length) resolve(this.received[index]!)
        else this.waiters.push(check)
      }
      check()
    })
    return withTimeout(arrived, timeoutMs, `${this.what} (#${index + 1})`)
  }

  /** The next item `wanted` accepts, skipping (and consuming) the others, within `timeoutMs` in all. */
  async nextMatching(wanted: (item: T) => boolean, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const item = await this.next(Math.max(1, deadline - Date.now()))
      if (wanted(item)) return item
    }
  }
}
