/**
 * The watched subjects of this node: one bus subscription per subject however many watch it, and
 * each message parsed once and handed to every watcher, as delivery serializes a message once for
 * all its recipients. The subscription goes when the subject's last watcher leaves, and a bound on
 * distinct subjects caps the subscriptions a node holds for watches.
 */
import type { Bus, BusSubscription } from '../bus/bus.js'
import { ImError, ImErrorCode } from '../errors.js'

/** One reader of a subject. */
export interface Watcher {
  /**
   * Takes one payload. Every watcher of the subject gets the same object: read it, never change
   * it. A watcher may remove itself from here (its reader fell behind); the others go on.
   */
  deliver(payload: unknown): void
}

export interface WatchFanoutOptions {
  readonly bus: Bus
  /** Distinct subjects this node may watch at once, each one bus subscription. */
  readonly maxWatchedSubjects: number
}

export interface WatchFanoutStats {
  /** Subjects watched now: the bus subscriptions held for watches. */
  readonly subjects: number
  /** Watchers now, over all subjects. */
  readonly watchers: number
  /** Payloads skipped since start because they were not JSON. */
  readonly payloadsNotJson: number
}

interface WatchedSubject {
  readonly subscription: BusSubscription
  readonly watchers: Set<Watcher>
}

const decoder = new TextDecoder()

export class WatchFanout {
  private readonly subjects = new Map<string, WatchedSubject>()
  private watcherCount = 0
  private notJson = 0

  constructor(private readonly options: WatchFanoutOptions) {}

  get stats(): WatchFanoutStats {
    return { subjects: this.subjects.size, watchers: this.watcherCount, payloadsNotJson: this.notJson }
  }

  /**
   * Adds a watcher of the literal `subject` and returns the function that removes it (calling it
   * again does nothing). Throws IM_LIMIT_EXCEEDED when the subject is not watched yet and the node
   * already watches its maximum of subjects; the bus's own error when it cannot subscribe.
   */
  add(subject: string, watcher: Watcher): () => void {
    let watched = this.subjects.get(subject)
    if (!watched) {
      if (this.subjects.size >= this.options.maxWatchedSubjects) {
        throw new ImError(ImErrorCode.LimitExceeded, `Too many subjects are watched on this node: at most ${this.options.maxWatchedSubjects}.`)
      }
      const watchers = new Set<Watcher>()
      const subscription = this.options.bus.subscribe(subject, (message) => this.fanOut(watchers, message.data))
      watched = { subscription, watchers }
      this.subjects.set(subject, watched)
    }
    watched.watchers.add(watcher)
    this.watcherCount++
    const entry = watched
    return () => this.remove(subject, entry, watcher)
  }

  private remove(subject: string, watched: WatchedSubject, watcher: Watcher): void {
    if (!watched.watchers.delete(watcher)) return
    this.watcherCount--
    if (watched.watchers.size > 0) return
    // Forgotten first: a bus that fails to unsubscribe (closing under our feet) must not leave it counted.
    if (this.subjects.get(subject) === watched) this.subjects.delete(subject)
    watched.subscription.unsubscribe()
  }

  private fanOut(watchers: ReadonlySet<Watcher>, data: Uint8Array): void {
    if (watchers.size === 0) return
    let payload: unknown
    try {
      payload = JSON.parse(decoder.decode(data))
    } catch {
      // Not JSON: nothing a client could read.
      this.notJson++
      return
    }
    // A watcher removed while this runs is not visited again (Set iteration allows deletes).
    for (const watcher of watchers) {
      try {
        watcher.deliver(payload)
      } catch {
        // One watcher's failure is its own: the others of the subject still get the payload.
      }
    }
  }
}
