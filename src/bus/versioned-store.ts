/**
 * A small shared table with compare-and-set, for state every node of a cluster must agree on
 * (which nodes hold a user's connections). Each key holds one value and a revision that grows
 * with every write; a write names the revision it read, and loses to any write made since.
 * The NATS bus keeps it in a JetStream stream (jetstream-versioned-store.ts); the embedded bus,
 * which is one node, in memory (below).
 */
export interface VersionedEntry {
  readonly key: string
  readonly value: Uint8Array
  readonly revision: number
}

export interface VersionedStore {
  /** Makes the table where it lives (a stream) if it is missing; rejects when it cannot be used. */
  ensure(): Promise<void>
  /** The value of `key`, or undefined when it has none. */
  get(key: string): Promise<VersionedEntry | undefined>
  /** Writes `key` if it has no value; the new revision, or 'taken' when it has one. */
  create(key: string, value: Uint8Array): Promise<number | 'taken'>
  /** Writes `key` if its revision is still `revision`; the new revision, or 'stale'. */
  update(key: string, value: Uint8Array, revision: number): Promise<number | 'stale'>
  /** Removes `key` if its revision is still `revision`; false when it changed or was gone. */
  removeIf(key: string, revision: number): Promise<boolean>
  /** Every key with its value, at a moment (writes made meanwhile may or may not show). */
  entries(): AsyncIterable<VersionedEntry>
}

/** Keys are one subject token: [A-Za-z0-9_-]. */
export const STORE_KEY = /^[A-Za-z0-9_-]+$/

/** The store of a single node: a map. */
export class MemoryVersionedStore implements VersionedStore {
  private readonly values = new Map<string, VersionedEntry>()
  private revision = 0

  async ensure(): Promise<void> {}

  async get(key: string): Promise<VersionedEntry | undefined> {
    return this.values.get(key)
  }

  async create(key: string, value: Uint8Array): Promise<number | 'taken'> {
    if (this.values.has(key)) return 'taken'
    return this.write(key, value)
  }

  async update(key: string, value: Uint8Array, revision: number): Promise<number | 'stale'> {
    if (this.values.get(key)?.revision !== revision) return 'stale'
    return this.write(key, value)
  }

  async removeIf(key: string, revision: number): Promise<boolean> {
    if (this.values.get(key)?.revision !== revision) return false
    this.values.delete(key)
    return true
  }

  async *entries(): AsyncIterable<VersionedEntry> {
    yield* [...this.values.values()]
  }

  private write(key: string, value: Uint8Array): number {
    const revision = ++this.revision
    this.values.set(key, { key, value, revision })
    return revision
  }
}
