/** The scenarios of the chaos suite, each with its full and quick sizes. */
import type { ScenarioResult } from './common.js'
import { CHURN_FULL, CHURN_QUICK, churnScenario } from './scenario-churn.js'
import { FLOOD_FULL, FLOOD_QUICK, floodScenario } from './scenario-flood.js'
import { NODE_KILL_FULL, NODE_KILL_QUICK, nodeKillScenario } from './scenario-node-kill.js'
import { NATS_RESTART_FULL, NATS_RESTART_QUICK, natsRestartScenario } from './scenario-nats-restart.js'
import { ROLLING_FULL, ROLLING_QUICK, rollingRestartScenario } from './scenario-rolling-restart.js'

export interface Scenario {
  readonly id: string
  readonly name: string
  run(quick: boolean): Promise<ScenarioResult>
}

export const SCENARIOS: readonly Scenario[] = [
  { id: '1', name: 'kill -9 nats-server during traffic', run: (quick) => natsRestartScenario(quick ? NATS_RESTART_QUICK : NATS_RESTART_FULL) },
  { id: '2', name: 'kill -9 one of two nodes', run: (quick) => nodeKillScenario(quick ? NODE_KILL_QUICK : NODE_KILL_FULL) },
  { id: '3', name: 'flood one connection', run: (quick) => floodScenario(quick ? FLOOD_QUICK : FLOOD_FULL) },
  { id: '4', name: 'connect and drop connections', run: (quick) => churnScenario(quick ? CHURN_QUICK : CHURN_FULL) },
  { id: '5', name: 'rolling restart (SIGTERM each node in turn)', run: (quick) => rollingRestartScenario(quick ? ROLLING_QUICK : ROLLING_FULL) },
]
