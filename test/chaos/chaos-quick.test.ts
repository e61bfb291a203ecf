/**
 * The chaos suite's quick mode in CI (bench/chaos, `npm run chaos -- --quick`): scenarios 1 and 4
 * against real node processes and a real nats-server, so that a change which breaks a promise, or
 * the harness's counting, fails here and not only in a manual run.
 */
import { describe, expect, it } from 'vitest'
import type { ScenarioResult } from '../../bench/chaos/common.js'
import { CHURN_QUICK, churnScenario } from '../../bench/chaos/scenario-churn.js'
import { NATS_RESTART_QUICK, natsRestartScenario } from '../../bench/chaos/scenario-nats-restart.js'

const checkOf = (result: ScenarioResult, promise: string): { ok: boolean; seen: string } => {
  const found = result.checks.find((c) => c.promise === promise)
  if (!found) throw new Error(`no check "${promise}" in scenario ${result.id}`)
  return found
}

describe('chaos suite, quick mode', () => {
  it('1: kill -9 nats-server during traffic: clients stay connected, nothing duplicated, loss only in the outage', async () => {
    const result = await natsRestartScenario(NATS_RESTART_QUICK)
    const d = result.details as { accepted: number; refusedAtPublisher: number; unconfirmed: number; lostOutsideWindow: number; drops: number }
    // The harness's own books balance, and the outage really happened (the publisher saw it).
    expect(d.accepted + d.refusedAtPublisher + d.unconfirmed).toBe(result.published)
    expect(d.refusedAtPublisher).toBeGreaterThan(0)
    expect(result.delivered).toBeGreaterThan(0)
    expect(result.duplicated).toBe(0)
    expect(d.drops).toBe(0)
    expect(checkOf(result, 'every client stays connected')).toMatchObject({ ok: true })
    expect(checkOf(result, 'the bus comes back by itself')).toMatchObject({ ok: true })
    expect(checkOf(result, 'delivery resumes after the restart')).toMatchObject({ ok: true })
    expect(d.lostOutsideWindow).toBe(0)
  }, 40_000)

  it('4: connect and drop connections: the registry returns to 0 and the heap to its baseline', async () => {
    const result = await churnScenario(CHURN_QUICK)
    expect(checkOf(result, 'every connection opens')).toMatchObject({ ok: true })
    expect(checkOf(result, '/healthz connections back to 0')).toMatchObject({ ok: true })
    expect(checkOf(result, 'heap back to baseline')).toMatchObject({ ok: true })
  }, 30_000)
})
