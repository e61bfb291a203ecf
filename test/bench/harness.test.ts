/**
 * The bench harness counts right: a tiny broadcast through the real harness code (load worker
 * process, official cohort, publisher, drain) against a real IMService and nats-server, checking
 * what was sent against what arrived. No timing is asserted; the figures are the bench's business.
 */
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoadPool } from '../../bench/lib/load-pool.js'
import { OfficialCohort } from '../../bench/lib/official-cohort.js'
import { imservice, wsFloor } from '../../bench/lib/targets.js'
import type { RunningTarget, Target } from '../../bench/lib/targets.js'
import { broadcastPhase } from '../../bench/lib/workloads.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'

const RAW_CLIENTS = 50
const OFFICIAL_CLIENTS = 2
const MESSAGES = 20

describe('bench harness', () => {
  let nats: NatsServer
  let nc: NatsConnection
  let pool: LoadPool

  beforeAll(async () => {
    nats = await startNatsServer()
    nc = await connect({ servers: nats.url })
    pool = await LoadPool.start(1, undefined)
  })

  afterAll(async () => {
    await pool?.stop()
    await nc?.close()
    await nats?.stop()
  })

  const cases: Array<[string, Target]> = [
    ['IMService', imservice],
    ['the ws floor reference', wsFloor],
  ]
  it.each(cases)('counts every broadcast tick at every client of %s, once', async (_name, target) => {
    const server: RunningTarget = await target.start({ natsUrl: nats.url, core: undefined })
    let cohort: OfficialCohort | undefined
    try {
      const opened = await pool.ensure(server.wsUrl, RAW_CLIENTS)
      expect(opened).toMatchObject({ open: RAW_CLIENTS, failed: 0 })
      cohort = await OfficialCohort.connect(server.wsUrl, OFFICIAL_CLIENTS)
      expect(await server.connections()).toBe(RAW_CLIENTS + OFFICIAL_CLIENTS)

      const context = { target: server, pool, cohort, nc, loadPids: [] }
      const result = await broadcastPhase(context, { phase: 1, mode: 'max', window: 5, maxMessages: MESSAGES, durationMs: 10_000, drainMs: 8000 })

      expect(result.published).toBe(MESSAGES)
      expect(result.rawClients).toBe(RAW_CLIENTS)
      expect(result.received).toBe(MESSAGES * RAW_CLIENTS)
      expect(result.expected).toBe(MESSAGES * RAW_CLIENTS)
      expect(result.perClientMin).toBe(MESSAGES)
      expect(result.perClientMax).toBe(MESSAGES)
      expect(result.duplicates).toBe(0)
      expect(result.stray).toBe(0)
      expect(result.cohort.perClient).toEqual(Array(OFFICIAL_CLIENTS).fill(MESSAGES))
      expect(result.drained).toBe(true)
      expect(result.complete).toBe(true)

      // A second phase starts from zero and ignores nothing it should count.
      const again = await broadcastPhase(context, { phase: 2, mode: 'fixed', rate: 1000, maxMessages: 5, durationMs: 10_000, drainMs: 8000 })
      expect(again).toMatchObject({ published: 5, received: 5 * RAW_CLIENTS, duplicates: 0, complete: true })
    } finally {
      await cohort?.stop()
      await pool.ensure(server.wsUrl, 0)
      await server.stop()
    }
  })
})
