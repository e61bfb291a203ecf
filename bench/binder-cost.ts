/**
 * What the run-time type check adds to one invocation, measured alone (the full invocation
 * benchmark, `npm run bench -- --quick --targets imservice`, is too noisy on a shared machine to
 * show a difference of this size): the time of `bindArguments` for DefaultHub's
 * `publish(topic, ...args)` and for a typed method whose object argument holds a Date (each call
 * includes building its argument array). Prints nanoseconds per call, to compare with the server
 * CPU per invocation the invocation benchmark reports (tens of microseconds).
 *
 *   node --import tsx bench/binder-cost.ts
 */
import { DefaultHub } from '../hubs/default-hub.js'
import { ValidatedHub } from '../test/fixtures/hubs/validated-hub.js'
import { compileHubBindings } from '../src/codegen/hub-binders.js'
import { readHubSources } from '../src/codegen/read-hub-sources.js'
import { hubMetadata } from '../src/hub/metadata.js'

const CALLS = 200_000
const { contracts } = readHubSources([DefaultHub, ValidatedHub].map((hub) => ({ className: hub.name, file: hubMetadata.getHubSource(hub)! })))
const [defaultHub, typedHub] = contracts.map((c) => compileHubBindings(c!.definition, c!.types))

function nsPerCall(make: () => unknown[], run: (args: unknown[]) => unknown): number {
  const inputs = Array.from({ length: 1000 }, make)
  for (let i = 0; i < 20_000; i++) run(make()) // warm up
  const started = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) run(i < 1000 ? inputs[i]! : make())
  return Number(process.hrtime.bigint() - started) / CALLS
}

const cases: Array<[string, () => unknown[], (args: unknown[]) => unknown]> = [
  ['publish(topic, {id}) checked', () => ['orders.created', { id: 42 }], (a) => defaultHub!.method('publish')!.bindArguments!(a)],
  ['post({text, sentAt}) checked + Date revived', () => [{ text: 'hi', sentAt: '2030-01-02T03:04:05Z', tags: ['a'] }], (a) => typedHub!.method('post')!.bindArguments!(a)],
]
for (const [name, make, run] of cases) process.stdout.write(`${name.padEnd(48)} ${nsPerCall(make, run).toFixed(0)} ns/call\n`)
