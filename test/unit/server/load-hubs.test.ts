import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { loadHubs } from '../../../src/server/load-hubs.js'

const API = pathToFileURL(join(import.meta.dirname, '../../../src/index.ts')).href
const folders: string[] = []

/** A hubs folder holding one file; `.mjs` sources call the decorators the way compiled code does. */
function hubsFolder(file: string, source: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'im-load-hubs-'))
  folders.push(folder)
  writeFileSync(join(folder, file), source)
  return folder
}

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

describe('loadHubs', () => {
  it('loads a hub whose decorators were compiled as experimental decorators', async () => {
    const folder = hubsFolder('tickets-hub.mjs', `
      import { Hub, HubMethod, Subscribe } from '${API}'
      export class TicketsHub { watch(id) { return id } updated() {} }
      HubMethod()(TicketsHub.prototype, 'watch')
      Subscribe('tickets.updated')(TicketsHub.prototype, 'updated')
      Hub()(TicketsHub)
    `)
    const hubs = await loadHubs(folder)
    expect(hubs.map((h) => h.name)).toEqual(['TicketsHub'])
  })

  it('refuses a hub compiled with standard decorators, naming the file', async () => {
    // What TypeScript and esbuild emit without experimentalDecorators: (value, context) calls.
    const folder = hubsFolder('tickets-hub.mjs', `
      import { Hub, HubMethod, Subscribe } from '${API}'
      export class TicketsHub { watch(id) { return id } updated() {} }
      HubMethod()(TicketsHub.prototype.watch, { kind: 'method', name: 'watch', static: false, private: false })
      Subscribe('tickets.updated')(TicketsHub.prototype.updated, { kind: 'method', name: 'updated', static: false, private: false })
      Hub()(TicketsHub, { kind: 'class', name: 'TicketsHub' })
    `)
    const error = await loadHubs(folder).then(() => undefined, (e: unknown) => e as Error & { code?: string })
    expect(error?.code).toBe('IM_HUB_DEFINITION_INVALID')
    expect(error?.message).toContain(join(folder, 'tickets-hub.mjs'))
    expect(error?.message).toContain('hub TicketsHub has member decorators, but none of them registered')
    expect(error?.message).toContain('"experimentalDecorators": true')
  })

  it('refuses a hub whose source shows member decorators that did not register', async () => {
    const folder = hubsFolder('tickets-hub.mjs', `
      import { Hub } from '${API}'
      // @HubMethod() on watch was lost on the way
      export class TicketsHub { watch(id) { return id } }
      Hub()(TicketsHub)
    `)
    await expect(loadHubs(folder)).rejects.toThrow(/tickets-hub\.mjs: hub TicketsHub has member decorators, but none of them registered/)
  })

  it('refuses a hub that serves nothing', async () => {
    const folder = hubsFolder('empty-hub.mjs', `
      import { Hub } from '${API}'
      export class EmptyHub { helper() {} }
      Hub()(EmptyHub)
    `)
    await expect(loadHubs(folder)).rejects.toThrow(/empty-hub\.mjs: hub EmptyHub serves nothing: give it a @HubMethod, @HubStream, @Forward or @Subscribe member/)
  })
})
