/**
 * Reads the declared parameter types of the hubs a server is given, from the file each `@Hub()`
 * was declared in, and compiles the checks the dispatcher and the subscriptions run. The model
 * is built at start-up with `im generate`'s analyzer rather than loaded from generated output,
 * because hubs reach the server as classes from anywhere (the hubs folder, a test, an embedder)
 * and only their sources are sure to be current. The analyzer (ts-morph) is loaded here only,
 * and only when the disk cache of an earlier start does not match the files (contract-cache.ts).
 */
import { readCachedContract, writeCachedContracts } from '../codegen/contract-cache.js'
import type { HubBindings } from '../hub/binding.js'
import type { HubClass } from '../hub/hub.js'
import { hubMetadata } from '../hub/metadata.js'
import type { Logger } from '../logger.js'

/** Bindings per hub, in order; undefined for a hub whose source could not be read. */
export async function bindHubs(hubs: readonly HubClass[], logger: Logger): Promise<(HubBindings | undefined)[]> {
  const started = performance.now()
  const sources = hubs.map((hub) => ({ hub, file: hubMetadata.getHubSource(hub) }))
  const readable = sources.filter((s): s is { hub: HubClass; file: string } => s.file !== undefined && /\.[cm]?[jt]sx?$/.test(s.file))
  if (readable.length === 0) {
    if (hubs.length > 0) logger.warn(`${hubs.map((h) => h.name).join(', ')}: the hubs' source files are not known; their arguments and payloads are not type-checked`)
    return hubs.map(() => undefined)
  }
  const requested = readable.map(({ hub, file }) => ({ className: hub.name, file }))
  const { compileHubBindings } = await import('../codegen/hub-binders.js')
  const contracts = requested.map((source) => readCachedContract(source))
  const missing = requested.filter((_, i) => contracts[i] === 'missing')
  if (missing.length > 0) {
    try {
      const { readHubSources } = await import('../codegen/read-hub-sources.js')
      const read = readHubSources(missing)
      writeCachedContracts(missing, read.files, read.contracts)
      missing.forEach((source, i) => (contracts[requested.indexOf(source)] = read.contracts[i]))
    } catch (error) {
      logger.warn('could not read the hubs\' sources; their arguments and payloads are not type-checked', { error })
      return hubs.map(() => undefined)
    }
  }
  const bindings = hubs.map((hub) => {
    const contract = contracts[readable.findIndex((s) => s.hub === hub)]
    if (contract === undefined || contract === 'missing') {
      logger.warn(`${hub.name}: its source could not be read (declared in ${hubMetadata.getHubSource(hub) ?? 'an unknown file'}); its arguments and payloads are not type-checked`)
      return undefined
    }
    return compileHubBindings(contract.definition, contract.types, (message) => logger.warn(message))
  })
  logger.debug('read the hubs\' parameter types', { hubs: hubs.length, read: missing.length, ms: Math.round(performance.now() - started) })
  return bindings
}
