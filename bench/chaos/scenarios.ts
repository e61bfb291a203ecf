/** The scenarios of the chaos suite, each with its full and quick sizes. */
import type { ScenarioResult } from './common.js'
import { NATS_RESTART_FULL, NATS_RESTART_QUICK, natsRestartScenario } from './scenario-nats-restart.js'

export interface Scenario {
  readonly id: string
  readonly name: string
  run(quick: boolean): Promise<ScenarioResult>
}

export const SCENARIOS: readonly Scenario[] = [
  { id: '1', name: 'kill -9 nats-server during traffic', run: (quick) => natsRestartScenario(quick ? NATS_RESTART_QUICK : NATS_RESTART_FULL) },
]
