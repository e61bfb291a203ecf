/**
 * The official `socket.io-client` counterpart of official-cohort.ts for the Socket.IO reference: a
 * few real clients (WebSocket transport only, like the raw load) counted the same way (cohort.ts).
 */
import { io } from 'socket.io-client'
import type { Socket } from 'socket.io-client'
import { CountingCohort } from './cohort.js'
import { METHOD } from './protocol.js'
import { within } from './procs.js'

export class SocketIoCohort extends CountingCohort<Socket> {
  static async connect(httpUrl: string, size: number): Promise<SocketIoCohort> {
    const cohort = new SocketIoCohort()
    for (let i = 0; i < size; i++) {
      const socket = io(httpUrl, { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 15_000 })
      const { tick, lost } = cohort.track(socket)
      socket.on(METHOD, (_stamp: string, seq: number, phase: number) => tick(seq, phase))
      socket.on('disconnect', lost)
    }
    const connected = (socket: Socket): Promise<void> =>
      new Promise((resolve, reject) => {
        if (socket.connected) return resolve()
        socket.once('connect', () => resolve())
        socket.once('connect_error', reject)
      })
    try {
      await within(Promise.all(cohort.members.map((m) => connected(m.client))), 20_000, 'socket.io-client cohort connect')
    } catch (error) {
      await cohort.stop()
      throw error
    }
    return cohort
  }

  protected isConnected(socket: Socket): boolean {
    return socket.connected
  }

  async stop(): Promise<void> {
    for (const m of this.members) m.client.disconnect()
  }
}
