import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { readCachedContracts, writeCachedContracts } from '../../../src/codegen/contract-cache.js'
import type { HubContract } from '../../../src/codegen/read-hub-sources.js'

const folders: string[] = []
afterEach(() => folders.splice(0).forEach((f) => rmSync(f, { recursive: true, force: true })))

function scratch(): string {
  const folder = mkdtempSync(join(tmpdir(), 'im-contract-cache-'))
  folders.push(folder)
  return folder
}

const contract: HubContract = {
  definition: { className: 'AHub', name: 'a', path: '/a', file: 'a.ts', methods: [], clientMethods: [], subscriptions: [], publications: [] },
  types: {},
}

it('returns what was written while every file it was read from is unchanged, and nothing once one changes', () => {
  const folder = scratch()
  const hubFile = join(folder, 'a-hub.ts')
  const imported = join(folder, 'types.ts')
  writeFileSync(hubFile, 'export class AHub {}')
  writeFileSync(imported, 'export interface T { a: string }')
  const sources = [{ className: 'AHub', file: hubFile }]
  expect(readCachedContracts(sources, folder)).toBeUndefined()
  const other = { className: 'BHub', file: hubFile }
  expect(readCachedContracts([...sources, other], folder)).toBeUndefined()
  writeCachedContracts([...sources, other], [hubFile, imported], [contract, undefined], folder)
  // Entries are per hub: a server given only one of them finds it.
  expect(readCachedContracts(sources, folder)).toEqual([contract])
  expect(readCachedContracts([other], folder)).toEqual([undefined])
  expect(readCachedContracts([{ className: 'CHub', file: hubFile }], folder)).toBeUndefined()
  writeFileSync(imported, 'export interface T { a: number }')
  expect(readCachedContracts(sources, folder)).toBeUndefined()
})

it('treats a cache folder that cannot be written as a miss, not an error', () => {
  const folder = scratch()
  const blocked = join(folder, 'file-not-folder')
  writeFileSync(blocked, '')
  const sources = [{ className: 'AHub', file: join(folder, 'a-hub.ts') }]
  expect(() => writeCachedContracts(sources, [], [contract], join(blocked, 'cache'))).not.toThrow()
  expect(readCachedContracts(sources, join(blocked, 'cache'))).toBeUndefined()
})
