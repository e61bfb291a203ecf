/**
 * Official `@microsoft/signalr` clients beside the raw load (see cohort.ts). They run in the
 * orchestrator (load core) and skip negotiate like the raw clients, so the same connection path is
 * measured for IMService and the references.
 */
import * as signalR from '@microsoft/signalr'
import { CountingCohort } from './cohort.js'
import { METHOD } from './protocol.js'

export type { Cohort, CohortReport } from './cohort.js'

export class OfficialCohort extends CountingCohort<signalR.HubConnection> {
  static async connect(wsUrl: string, size: number): Promise<OfficialCohort> {
    const cohort = new OfficialCohort()
    for (let i = 0; i < size; i++) {
      const connection = new signalR.HubConnectionBuilder()
        .withUrl(wsUrl.replace(/^ws/, 'http'), { skipNegotiation: true, transport: signalR.HttpTransportType.WebSockets })
        .configureLogging(signalR.LogLevel.None)
        .build()
      const { tick, lost } = cohort.track(connection)
      connection.on(METHOD, (_stamp: string, seq: number, phase: number) => tick(seq, phase))
      connection.onclose(lost)
    }
    await Promise.all(cohort.members.map((m) => m.client.start()))
    return cohort
  }

  protected isConnected(connection: signalR.HubConnection): boolean {
    return connection.state === signalR.HubConnectionState.Connected
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.client.stop().catch(() => undefined)))
  }
}
