/**
 * A few official `@microsoft/signalr` clients beside the raw load, to prove that what the raw
 * clients count is what a real client sees: each must receive every tick of a phase, once, in order.
 * They run in the orchestrator (load core) and skip negotiate like the raw clients, so the same
 * connection path is measured for IMService and the references.
 */
import * as signalR from '@microsoft/signalr'
import { METHOD } from './protocol.js'

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

interface Member {
  readonly connection: signalR.HubConnection
  lastSeq: number
  received: number
}

export class OfficialCohort implements Cohort {
  private phase = -1
  private duplicates = 0
  private closed = 0

  private constructor(private readonly members: Member[]) {}

  static async connect(wsUrl: string, size: number): Promise<OfficialCohort> {
    const members: Member[] = []
    const cohort = new OfficialCohort(members)
    for (let i = 0; i < size; i++) {
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(wsUrl.replace(/^ws/, 'http'), { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
        .configureLogging(signalR.LogLevel.None)
        .build()
      const member: Member = { connection, lastSeq: -1, received: 0 }
      connection.on(METHOD, (_stamp: string, seq: number, phase: number) => {
        if (phase !== cohort.phase) return
        if (seq <= member.lastSeq) {
          cohort.duplicates += 1
          return
        }
        member.lastSeq = seq
        member.received += 1
      })
      connection.onclose(() => {
        cohort.closed += 1
      })
      members.push(member)
    }
    await Promise.all(members.map((m) => m.connection.start()))
    return cohort
  }

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

  /** The highest seq every member has. */
  minSeq(): number {
    return this.members.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...this.members.map((m) => m.lastSeq))
  }

  report(): CohortReport {
    return {
      clients: this.members.length,
      connected: this.members.filter((m) => m.connection.state === signalR.HubConnectionState.Connected).length,
      perClient: this.members.map((m) => m.received),
      duplicates: this.duplicates,
      closed: this.closed,
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.connection.stop().catch(() => undefined)))
  }
}
