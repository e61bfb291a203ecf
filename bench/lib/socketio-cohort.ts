/**
 * The official `socket.io-client` counterpart of official-cohort.ts for the Socket.IO reference: a
 * few real clients (WebSocket transport only, like the raw load) that must each receive every tick
 * of a phase, once, in order.
 */
import { io } from 'socket.io-client'
import type { Socket } from 'socket.io-client'
import type { Cohort, CohortReport } from './official-cohort.js'
import { METHOD } from './protocol.js'
import { within } from './procs.js'

interface Member {
  readonly socket: Socket
  lastSeq: number
  received: number
}

export class SocketIoCohort implements Cohort {
  private phase = -1
  private duplicates = 0
  private closed = 0

  private constructor(private readonly members: Member[]) {}

  static async connect(httpUrl: string, size: number): Promise<SocketIoCohort> {
    const members: Member[] = []
    const cohort = new SocketIoCohort(members)
    for (let i = 0; i < size; i++) {
      const socket = io(httpUrl, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 15_000 })
      const member: Member = { socket, lastSeq: -1, received: 0 }
      socket.on(METHOD, (_stamp: string, seq: number, phase: number) => {
        if (phase !== cohort.phase) return
        if (seq <= member.lastSeq) {
          cohort.duplicates += 1
          return
        }
        member.lastSeq = seq
        member.received += 1
      })
      socket.on('disconnect', () => {
        cohort.closed += 1
      })
      members.push(member)
    }
    const connected = (socket: Socket): Promise<void> =>
      new Promise((resolve, reject) => {
        if (socket.connected) return resolve()
        socket.once('connect', () => resolve())
        socket.once('connect_error', reject)
      })
    try {
      await within(Promise.all(members.map((m) => connected(m.socket))), 20_000, 'socket.io-client cohort connect')
    } catch (error) {
      await cohort.stop()
      throw error
    }
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

  minSeq(): number {
    return this.members.length === 0 ? Number.POSITIVE_INFINITY : Math.min(...this.members.map((m) => m.lastSeq))
  }

  report(): CohortReport {
    return {
      clients: this.members.length,
      connected: this.members.filter((m) => m.socket.connected).length,
      perClient: this.members.map((m) => m.received),
      duplicates: this.duplicates,
      closed: this.closed,
    }
  }

  async stop(): Promise<void> {
    for (const m of this.members) m.socket.disconnect()
  }
}
