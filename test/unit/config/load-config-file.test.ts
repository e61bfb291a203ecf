import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfigFile } from '../../../src/config/load-config.js'
import { ImErrorCode } from '../../../src/errors.js'

describe('loadConfigFile', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'im-config-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  async function file(name: string, text: string): Promise<string> {
    const path = join(dir, name)
    await writeFile(path, text)
    return path
  }

  it('returns the default export of a TypeScript config file', async () => {
    const path = await file('im.config.ts', "const port: number = 6000\nexport default { port, nats: { url: 'nats://x:4222' } }\n")
    expect(await loadConfigFile(path)).toEqual({ port: 6000, nats: { url: 'nats://x:4222' } })
  })

  it('returns the default export of a JavaScript module', async () => {
    const path = await file('im.config.mjs', 'export default { host: "127.0.0.1" }\n')
    expect(await loadConfigFile(path, { optional: true })).toEqual({ host: '127.0.0.1' })
  })

  it('returns {} for a missing file only when the path is optional', async () => {
    const missing = join(dir, 'absent.config.ts')
    expect(await loadConfigFile(missing, { optional: true })).toEqual({})
    await expect(loadConfigFile(missing)).rejects.toMatchObject({ code: ImErrorCode.ConfigInvalid, message: `config file ${missing} cannot be read` })
    await expect(loadConfigFile(missing, { optional: false })).rejects.toMatchObject({ code: ImErrorCode.ConfigInvalid })
  })

  it('refuses a module without a default export', async () => {
    const path = await file('named.config.mjs', 'export const port = 1\n')
    await expect(loadConfigFile(path)).rejects.toMatchObject({
      code: ImErrorCode.ConfigInvalid,
      message: `config file ${path} has no default export; write \`export default defineConfig({ ... })\``,
    })
  })

  it('refuses a default export that is not an object', async () => {
    const path = await file('number.config.mjs', 'export default 42\n')
    await expect(loadConfigFile(path)).rejects.toMatchObject({ code: ImErrorCode.ConfigInvalid, message: `config file ${path} must export an object by default, got 42` })
  })

  it('reports a module that throws while loading, even when optional', async () => {
    const path = await file('broken.config.mjs', 'throw new Error("boom")\n')
    await expect(loadConfigFile(path, { optional: true })).rejects.toMatchObject({ code: ImErrorCode.ConfigInvalid, message: `config file ${path} failed to load: boom` })
  })

  it('reports a missing import inside the file instead of treating it as no file', async () => {
    const path = await file('imports.config.mjs', 'import "./does-not-exist.mjs"\nexport default {}\n')
    await expect(loadConfigFile(path, { optional: true })).rejects.toMatchObject({ code: ImErrorCode.ConfigInvalid })
  })
})
