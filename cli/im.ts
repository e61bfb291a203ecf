/**
 * `im`: run IMService and work with its hubs.
 *   im serve                       start a node from im.config.ts and the IM_* environment
 *   im publish <subject> <json>    publish as a service would (NATS, or the node's HTTP endpoint)
 *   im generate [--check]          typed clients and publishers from the hubs (docs/codegen.md)
 *   im init [dir]                  scaffold a project: im.config.ts, hubs/, tsconfig, npm scripts
 */
import { Command, InvalidArgumentError } from 'commander'
import { serve } from './serve.js'
import { publish } from './publish.js'
import { generateCommand } from './generate.js'
import { init } from './init.js'
import { packageVersion } from './version.js'

const program = new Command()
  .name('im')
  .description('IMService: a SignalR-compatible real-time gateway for services that talk over NATS')
  .version(packageVersion())
  .showHelpAfterError()

program
  .command('serve')
  .description('start an IMService node')
  .option('-c, --config <file>', 'configuration file', 'im.config.ts')
  .option('-p, --port <port>', 'port to listen on (overrides IM_PORT and the file)', parsePort)
  .option('--host <host>', 'address to listen on (overrides IM_HOST and the file)')
  .option('--dry-run', 'check the configuration and the hubs, read their declared types into the cache, and exit without serving')
  .action(serve)

program
  .command('publish')
  .description('publish a JSON payload to a subject, the way a service would')
  .argument('<subject>', 'subject, e.g. im.default.send')
  .argument('<json>', 'payload, e.g. \'{"method":"hello","args":["world"]}\'')
  .option('-c, --config <file>', 'configuration file', 'im.config.ts')
  .option('--url <url>', 'base URL of the node for the HTTP publish endpoint (default: the internal port if set, else the port, on 127.0.0.1)')
  .action(publish)

program
  .command('generate')
  .description('generate typed clients, service publishers, C# records and AsyncAPI from the hubs')
  .option('-c, --config <file>', 'configuration file', 'im.config.ts')
  .option('--check', 'write nothing; fail and show a diff if a generated file is stale')
  .option('--against <ref>', 'with --check: fail on breaking changes since the hub-model.json committed at this git revision')
  .option('--accept-breaking', 'let breaking changes through (a write replaces the contract; --check passes)')
  .option('--watch', 'regenerate whenever a hub changes')
  .option('--hubs <dir>', 'hubs folder (default: hubsDir of the configuration)')
  .option('--out <dir>', 'output folder (default: generatedDir of the configuration)')
  .action(generateCommand)

program
  .command('init')
  .description('scaffold a project that serves hubs: im.config.ts, hubs/ with an example, tsconfig.json, npm scripts')
  .argument('[dir]', 'project folder (default: the current one)')
  .action(init)

function parsePort(value: string): number {
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('a port is an integer from 0 to 65535')
  return port
}

try {
  await program.parseAsync()
} catch (error) {
  process.stderr.write(`im: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
}
