/**
 * What reading the hubs' parameter types costs a node at start-up: the time `startServer` takes
 * with this repository's hubs and the process's RSS once it listens, on the embedded bus.
 *
 *   node --import tsx bench/startup-cost.ts [<checkout>]
 *
 * With a checkout folder (another worktree, e.g. of the commit before run-time validation) the
 * same figures are measured for that code, so the two can be compared on one machine.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const root = resolve(process.argv[2] ?? new URL('..', import.meta.url).pathname)
const load = async <T>(path: string): Promise<T> => (await import(pathToFileURL(resolve(root, path)).href)) as T

const started = performance.now()
const { startServer } = await load<typeof import('../src/server.js')>('src/server.ts')
const { resolveConfig } = await load<typeof import('../src/config/load-config.js')>('src/config/load-config.ts')
const { DefaultHub } = await load<typeof import('../hubs/default-hub.js')>('hubs/default-hub.ts')
const imported = performance.now()
const config = resolveConfig({ port: 0, host: '127.0.0.1', nats: { url: 'nats://127.0.0.1:1' } }, {})
const server = await startServer({ config: { ...config, nats: { ...config.nats, explicit: false } }, hubs: [DefaultHub] })
const listening = performance.now()
;(globalThis as { gc?: () => void }).gc?.()
const rss = process.memoryUsage().rss
await server.close()
process.stdout.write(
  `${root}: import ${Math.round(imported - started)} ms, startServer ${Math.round(listening - imported)} ms, RSS ${Math.round(rss / 1048576)} MiB once listening\n`,
)
process.exit(0)
