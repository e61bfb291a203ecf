/** Reading the configuration the same way for every command. */
import { resolveConfig, loadConfigFile } from '../src/index.js'
import type { ImConfig } from '../src/index.js'

export async function loadConfig(file: string, overrides: { port?: number; host?: string } = {}): Promise<ImConfig> {
  // The default file may be absent (settings then come from the environment); a named one may not.
  const explicit = process.argv.some((arg) => arg === '-c' || arg === '--config' || arg.startsWith('--config='))
  const input = await loadConfigFile(file, { optional: !explicit })
  const config = resolveConfig(input)
  return {
    ...config,
    ...(overrides.port !== undefined ? { port: overrides.port } : {}),
    ...(overrides.host !== undefined ? { host: overrides.host } : {}),
  }
}
