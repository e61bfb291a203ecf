import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { init } from '../../../cli/init.js'

const folders: string[] = []

function project(files: Record<string, string> = {}): string {
  const folder = mkdtempSync(join(tmpdir(), 'im-init-'))
  folders.push(folder)
  for (const [file, text] of Object.entries(files)) writeFileSync(join(folder, file), text)
  return folder
}

/** Runs `im init` on the folder and returns what it printed. */
function runInit(folder: string): string {
  let printed = ''
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed += String(chunk)
    return true
  })
  try {
    init(folder)
  } finally {
    write.mockRestore()
  }
  return printed
}

const read = (folder: string, file: string): string => readFileSync(join(folder, file), 'utf8')

afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
})

describe('im init', () => {
  it('scaffolds a project whose tsconfig carries the decorator options', () => {
    const folder = project()
    const printed = runInit(folder)
    expect(printed).toContain('wrote hubs/greetings-hub.ts')
    expect(read(folder, 'im.config.ts')).toContain("from 'imservice'")
    expect(read(folder, 'hubs/greetings-hub.ts')).toContain('@HubMethod()')
    expect(JSON.parse(read(folder, 'tsconfig.json')).compilerOptions).toMatchObject({ experimentalDecorators: true, useDefineForClassFields: false })
    expect(read(folder, '.gitignore')).toContain('node_modules/')
    const manifest = JSON.parse(read(folder, 'package.json'))
    expect(manifest).toMatchObject({ type: 'module', scripts: { serve: 'im serve', generate: 'im generate' }, overrides: { '@nats-io/nuid': '2.0.3' } })
  })

  it('keeps existing files and merges package.json without overwriting what the project has', () => {
    const folder = project({
      'tsconfig.json': '{"compilerOptions":{}}\n',
      'package.json': JSON.stringify({ name: 'tickets', type: 'module', scripts: { serve: 'node server.js', test: 'vitest' }, dependencies: { imservice: '^0.1.0' } }),
    })
    const printed = runInit(folder)
    expect(printed).toContain('kept tsconfig.json (exists)')
    expect(read(folder, 'tsconfig.json')).toBe('{"compilerOptions":{}}\n')
    const manifest = JSON.parse(read(folder, 'package.json'))
    expect(manifest.scripts).toMatchObject({ serve: 'node server.js', test: 'vitest', generate: 'im generate' })
    expect(manifest.dependencies).toEqual({ imservice: '^0.1.0' })
  })

  it('warns when the project is CommonJS, since hubs load as ES modules', () => {
    const folder = project({ 'package.json': JSON.stringify({ name: 'legacy', type: 'commonjs' }) })
    expect(runInit(folder)).toContain('warning: package.json says "type": "commonjs"')
  })
})
