/** `im serve`: start a node, print what it serves, stop cleanly on SIGINT / SIGTERM. */
import { checkHubs, createConsoleLogger, describeConfig, loadHubs, startServer } from '../src/index.js'
import type { ImServer, LogLevel } from '../src/index.js'
import { loadConfig } from './load.js'

export async function serve(options: { config: string; port?: number; host?: string; dryRun?: boolean }): Promise<void> {
  const config = await loadConfig(options.config, { port: options.port, host: options.host })
  const logger = createConsoleLogger({ level: logLevel(process.env.IM_LOG_LEVEL) })
  const hubs = await loadHubs(config.hubsDir)
  if (hubs.length === 0) throw new Error(`no hub classes found in ${config.hubsDir}/ (export a class decorated with @Hub())`)
  if (options.dryRun) {
    // Everything start-up checks, without listening or connecting: the hubs' declared types are
    // read (and cached, so that a node started later loads no TypeScript compiler).
    const descriptors = await checkHubs(hubs, config, logger)
    process.stdout.write(`im serve --dry-run: the configuration and ${descriptors.length} hub(s) are valid (${descriptors.map((d) => d.name).join(', ')})\n`)
    return
  }
  const server = await startServer({ config, hubs, logger })
  // A stream conflict is a configuration error: the node stops with the message, whether the
  // first connection comes within the banner's wait or later.
  const setUp = firstSetUp(server.bus)
  const early = await Promise.race([setUp.then(() => true), delay(3000)]).catch(async (error: unknown) => {
    await server.close()
    throw error
  })
  if (early !== true) {
    setUp.catch(async (error: unknown) => {
      logger.error(`im: ${error instanceof Error ? error.message : String(error)}`)
      await server.close()
      process.exit(1)
    })
  }

  const out = (line: string): void => void process.stdout.write(line + '\n')
  out(`IMService listening on ${server.url}`)
  if (server.internalUrl !== undefined) out(`  internal listener on ${server.internalUrl}`)
  for (const line of describeConfig(config)) out(`  ${line}`)
  const bus = server.bus.status()
  const retrying = bus.state === 'connected' ? '' : ' (retrying until NATS answers; clients are served meanwhile)'
  out(`  bus: ${bus.kind === 'embedded' ? 'embedded single-node bus (no NATS)' : `NATS ${bus.server ?? ''}`}, ${bus.state}${retrying}`)
  for (const hub of server.hubs) {
    out(`  hub ${hub.name} at ${server.url}${hub.path}`)
    for (const s of hub.subscriptions) out(`    subscribes ${s.subject}${s.queue ? ` (queue ${s.queue})` : ''}`)
    for (const m of hub.methods.values()) out(`    client method ${m.name}${m.forwardSubject ? ` -> ${m.forwardSubject}` : ''}`)
  }
  server.bus.onStatusChange((status) => logger.info(`bus ${status.state}`, { server: status.server }))

  const stop = (signal: string): void => {
    logger.info(`${signal}: closing connections and the bus`)
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error })
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

/**
 * Resolves once the first connection's set-up (the JetStream stream among it) is done; rejects
 * with what stops the node, such as IM_STREAM_CONFLICT. The banner waits a moment for it so that
 * it tells the state that matters.
 */
async function firstSetUp(bus: ImServer['bus']): Promise<void> {
  if (bus.status().state === 'connecting') {
    await new Promise<void>((resolve) => {
      const off = bus.onStatusChange((status) => {
        if (status.state !== 'connected' && status.state !== 'closed') return
        off()
        resolve()
      })
    })
  }
  await bus.ready()
}

function delay(ms: number): Promise<false> {
  return new Promise((resolve) => setTimeout(() => resolve(false), ms).unref())
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent']

function logLevel(value: string | undefined): LogLevel {
  if (value === undefined || value === '') return 'info'
  if ((LEVELS as readonly string[]).includes(value)) return value as LogLevel
  throw new Error(`IM_LOG_LEVEL must be one of ${LEVELS.join(', ')}, got "${value}"`)
}
