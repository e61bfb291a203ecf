/**
 * The bench harness counts right: tiny runs of each workload through the real harness code (load
 * worker processes, official cohort, publisher, drain) against real servers and nats-server,
 * checking what was sent against what arrived. No timing is asserted; the figures are the bench's business.
 */
import { existsSync } from 'node:fs'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/transport-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { churnPhase } from '../../bench/lib/churn.js'
import { NoCohort } from '../../bench/lib/cohort.js'
import { invocationPhase } from '../../bench/lib/invocations.js'
import { LoadPool } from '../../bench/lib/load-pool.js'
import { natsWs } from '../../bench/lib/nats-ws-target.js'
import { OfficialCohort } from '../../bench/lib/official-cohort.js'
import type { Cohort } from '../../bench/lib/official-cohort.js'
import { connectUsers, targetedPhase } from '../../bench/lib/targeted.js'
import { imservice, socketioRedis, wsFloor } from '../../bench/lib/targets.js'
import type { RunningTarget, Target } from '../../bench/lib/targets.js'
import { broadcastPhase } from '../../bench/lib/workloads.js'
import { startNatsServer } from '../support/nats-server.js'
import type { NatsServer } from '../support/nats-server.js'

const RAW_CLIENTS = 50
const OFFICIAL_CLIENTS = 2
const MESSAGES = 20
const USERS = 20
const REDIS = existsSync(process.env.BENCH_REDIS_SERVER ?? '/usr/bin/redis-server')

describe('bench harness', () => {
  let nats: NatsServer
  let nc: NatsConnection
  let pool: LoadPool

  beforeAll(async () => {
    nats = await startNatsServer()
    nc = await connect({ servers: nats.url })
    // Two workers, as a run has: a user's two connections land on different workers.
    pool = await LoadPool.start(2, undefined)
  })

  afterAll(async () => {
    await pool?.stop()
    await nc?.close()
    await nats?.stop()
  })

  async function withServer(target: Target, body: (server: RunningTarget) => Promise<void>): Promise<void> {
    const server = await target.start({ natsUrl: nats.url, core: undefined })
    try {
      await body(server)
    } finally {
      await pool.ensure(server.wsUrl, 0, server.client)
      await server.stop()
    }
  }

  const broadcastCases: Array<[string, Target]> = [
    ['IMService', imservice],
    ['the ws floor reference', wsFloor],
    ["nats-server's WebSocket listener", natsWs],
  ]
  it.each(broadcastCases)('counts every broadcast tick at every client of %s, once', (_name, target) =>
    withServer(target, async (server) => {
      const opened = await pool.ensure(server.wsUrl, RAW_CLIENTS, server.client)
      expect(opened).toMatchObject({ open: RAW_CLIENTS, failed: 0 })
      const cohort: Cohort = server.client === 'natsws' ? new NoCohort() : await OfficialCohort.connect(server.wsUrl, OFFICIAL_CLIENTS)
      try {
        expect(await server.connections()).toBe(RAW_CLIENTS + cohort.size)
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
        expect(result.cohort.perClient).toEqual(Array(cohort.size).fill(MESSAGES))
        expect(result.drained).toBe(true)
        expect(result.complete).toBe(true)

        // A second phase starts from zero and ignores nothing it should count.
        const again = await broadcastPhase(context, { phase: 2, mode: 'fixed', rate: 1000, maxMessages: 5, durationMs: 10_000, drainMs: 8000 })
        expect(again).toMatchObject({ published: 5, received: 5 * RAW_CLIENTS, duplicates: 0, complete: true })
      } finally {
        await cohort.stop()
      }
    }),
  )

  const userCases: Array<[string, Target]> = [
    ['IMService', imservice],
    ['the ws floor reference', wsFloor],
    ...(REDIS ? [['the Socket.IO reference', socketioRedis] as [string, Target]] : []),
  ]
  it.each(userCases)('targeted, invocations and churn count every message, call and connect of %s', (_name, target) =>
    withServer(target, async (server) => {
      // Targeted: each user's two connections get exactly that user's ticks, nobody else's.
      expect(await connectUsers(server, pool, USERS)).toMatchObject({ open: USERS * 2, failed: 0 })
      const context = { target: server, pool, nc, loadPids: [], users: USERS }
      const targeted = await targetedPhase(context, { phase: 3, mode: 'max', window: 10, maxMessages: 60, durationMs: 10_000, drainMs: 8000 })
      expect(targeted.counts).toEqual({ sent: 60, expected: 120, received: 120, duplicates: 0, missing: 0, extra: 0 })
      expect(targeted.complete).toBe(true)
      const fixed = await targetedPhase(context, { phase: 4, mode: 'fixed', rate: 500, maxMessages: 10, durationMs: 10_000, drainMs: 8000 })
      expect(fixed.counts).toMatchObject({ sent: 10, received: 20, missing: 0, extra: 0 })

      // Invocations: every call completes once and reaches the service once.
      await pool.ensure(server.wsUrl, 0, server.client)
      await pool.ensure(server.wsUrl, 10, server.client)
      const calls = await invocationPhase({ target: server, pool, nc, loadPids: [], clients: 10 }, { phase: 5, durationMs: 300, drainMs: 5000 })
      expect(calls.counts.sent).toBeGreaterThan(10)
      expect(calls.counts).toMatchObject({ received: calls.counts.sent, duplicates: 0, missing: 0, extra: 0 })
      expect(calls.atService).toEqual({ unique: calls.counts.sent, duplicates: 0, missing: 0 })
      expect(calls.complete).toBe(true)

      // Churn: every attempt connects (negotiate and JWT where the target has them), and nothing stays open.
      const churn = await churnPhase({ target: server, pool, loadPids: [] }, { durationMs: 300, lanes: 2, users: 3 })
      expect(churn.counts.received).toBeGreaterThan(0)
      expect(churn.counts).toMatchObject({ received: churn.counts.sent, missing: 0, extra: 0 })
      expect(churn.complete).toBe(true)
    }),
  )
})
