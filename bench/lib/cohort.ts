/**
 * A few official clients beside the raw load, to prove that what the raw clients count is what a
 * real client sees: each must receive every tick of a phase, once, in order. The counting is the
 * same whatever client library a cohort uses; subclasses only connect, tell who is connected, and stop.
 */
export interface CohortReport {
  readonly clients: number
  readonly connected: number
  /** Unique ticks received per client for the phase. */
  readonly perClient: readonly number[]
  readonly duplicates: number
  readonly closed: number
}

/** What the harness needs of a cohort of official clients, whichever library they use. */
export interface Cohort {
  readonly size: number
  startPhase(phase: number): void
  /** The highest seq every member has. */
  minSeq(): number
  report(): CohortReport
  stop(): Promise<void>
}

interface Member<C> {
  readonly client: C
  lastSeq: number
  received: number
}

export abstract class CountingCohort<C> implements Cohort {
  protected readonly members: Member<C>[] = []
  private phase = -1
  private duplicates = 0
  private closed = 0

  /** Adds a client; wire its tick events to `tick` and its close event to `lost`. */
  protected track(client: C): { tick: (seq: number, phase: number) => void; lost: () => void } {
    const member: Member<C> = { client, lastSeq: -1, received: 0 }
    this.members.push(member)
    return {
      tick: (seq, phase) => {
        if (phase !== this.phase) return
        if (seq <= member.lastSeq) {
          this.duplicates += 1
          return
        }
        member.lastSeq = seq
        member.received += 1
      },
      lost: () => {
        this.closed += 1
      },
    }
  }

  protected abstract isConnected(client: C): boolean
  abstract stop(): Promise<void>

  get size(): number {
    return this.members.length
  }

  startPhase(phase: number): void {
    this.phase = phase
    this.duplicates = 0
    for (const m of this.members) {
      m.lastSeq = -1
      m.received = 0
    }
  }

  minSeq(): number {
    return this.members.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...this.members.map((m) => m.lastSeq))
  }

  report(): CohortReport {
    return {
      clients: this.members.length,
      connected: this.members.filter((m) => this.isConnected(m.client)).length,
      perClient: this.members.map((m) => m.received),
      duplicates: this.duplicates,
      closed: this.closed,
    }
  }
}

/** For a target no official client can reach from here (nats-ws): the raw clients' counts stand alone. */
export class NoCohort implements Cohort {
  readonly size = 0
  startPhase(): void {}
  minSeq(): number {
    return Number.POSITIVE_INFINITY
  }
  report(): CohortReport {
    return { clients: 0, connected: 0, perClient: [], duplicates: 0, closed: 0 }
  }
  async stop(): Promise<void> {}
}
