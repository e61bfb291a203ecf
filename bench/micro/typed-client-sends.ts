/**
 * What a typed client method costs against `send`: `this.clients.group(r).message(m)` and
 * `this.clients.group(r).send('message', m)` through the same no-op Delivery, in the same run,
 * as nanoseconds per call and their ratio. The proxy is made per call, as hub code does.
 *
 * Usage: node --import tsx bench/micro/typed-client-sends.ts [--calls 5000000]
 */
import { parseArgs } from 'node:util'
import { createHubClients } from '../../src/hub/clients.js'
import type { HubClients } from '../../src/hub/client-types.js'
import type { Delivery } from '../../src/lifetime/delivery.js'

interface ChatClient { message(m: { room: string; text: string }): void }

const { values } = parseArgs({ options: { calls: { type: 'string', default: '5000000' } } })
const calls = Number(values.calls)
let handled = 0
const delivery: Delivery = { send: (_target, _method, args) => ((handled += args.length), Promise.resolve()), changeGroup: async () => {} }
const clients = createHubClients(delivery, 'me') as unknown as HubClients<ChatClient>
const message = { room: 'r', text: 'hi' }

function nsPerCall(call: () => void): number {
  for (let i = 0; i < 200_000; i++) call()
  const started = process.hrtime.bigint()
  for (let i = 0; i < calls; i++) call()
  return Number(process.hrtime.bigint() - started) / calls
}

const rows: Array<[string, () => void]> = [
  ["group(r).send('message', m)", () => void clients.group('r').send('message', message)],
  ['group(r).message(m)', () => void clients.group('r').message(message)],
  ["all.send('message', m)", () => void clients.all.send('message', message)],
  ['all.message(m)', () => void clients.all.message(message)],
]
const best = new Map<string, number>()
for (let round = 0; round < 3; round++) {
  for (const [name, call] of rows) best.set(name, Math.min(best.get(name) ?? Infinity, nsPerCall(call)))
}
for (const [name] of rows) console.log(`${name.padEnd(30)} ${best.get(name)!.toFixed(1)} ns/call`)
const ratio = (typed: string, untyped: string): string => (best.get(typed)! / best.get(untyped)!).toFixed(2)
console.log(`typed / send: group ${ratio('group(r).message(m)', "group(r).send('message', m)")}, all ${ratio('all.message(m)', "all.send('message', m)")}`)
if (handled === 0) throw new Error('nothing was sent')
