import type { ImConfigInput } from './config.js'

/**
 * Types the default export of `im.config.ts`; returns its argument unchanged. Defaults and the IM_*
 * environment overrides are applied later by `resolveConfig`.
 */
export function defineConfig(input: ImConfigInput): ImConfigInput {
  return input
}
