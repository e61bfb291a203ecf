/**
 * What the analyzer refuses beyond types: a decorator named like ours that is someone else's,
 * static decorated members (methods and properties, also in a base class), a `@Hub({ version })`
 * that is not a positive integer literal. Each hub is a file in a temp folder.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { analyzeHubs } from '../../../src/codegen/analyze.js'
import { CodegenError, formatProblem } from '../../../src/codegen/codegen-error.js'

const folders: string[] = []
const SRC = resolve('src/index.js')

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

/** The messages of analyzing one hub file, or the model's hubs when it is accepted. */
function analyze(source: string, parent = tmpdir()): { messages: string[]; versions: (number | undefined)[] } {
  const folder = mkdtempSync(join(parent, 'im-codegen-refusals-'))
  folders.push(folder)
  writeFileSync(join(folder, 'hub.ts'), source.replaceAll('SRC', SRC))
  try {
    const { model } = analyzeHubs({ hubsDir: folder, root: folder })
    return { messages: [], versions: model.hubs.map((h) => h.version) }
  } catch (error) {
    if (!(error instanceof CodegenError)) throw error
    return { messages: error.problems.map(formatProblem), versions: [] }
  }
}

describe('analyzer refusals', () => {
  it('refuses a decorator named HubMethod that is not IMService\'s', () => {
    const { messages } = analyze(`import { Hub, HubBase } from 'SRC'
function HubMethod(): MethodDecorator { return () => {} }
@Hub()
export class LookHub extends HubBase {
  @HubMethod()
  go(): void {}
}
`)
    expect(messages).toEqual(["hub.ts:5: LookHub.go: @HubMethod here is not IMService's decorator; import it from IMService (the method would not be served)"])
  }, 30_000)

  it('refuses static decorated methods, also in a base class', () => {
    const { messages } = analyze(`import { Hub, HubBase, HubMethod, Subscribe } from 'SRC'
export abstract class BaseHub extends HubBase {
  @HubMethod()
  static shared(): void {}
}
@Hub()
export class StaticHub extends BaseHub {
  @Subscribe('svc.x')
  static handler(): void {}
}
`)
    expect(messages).toEqual([
      "hub.ts:3: BaseHub.shared: @HubMethod is on the static member BaseHub.shared; hub methods and handlers run on the hub instance, remove 'static'",
      "hub.ts:8: StaticHub.handler: @Subscribe is on the static member StaticHub.handler; hub methods and handlers run on the hub instance, remove 'static'",
    ])
  }, 30_000)

  it('reads @Hub({ version }) and refuses one that is not a positive integer literal', () => {
    expect(analyze(`import { Hub, HubBase } from 'SRC'\n@Hub({ version: 3 })\nexport class VHub extends HubBase {}\n`).versions).toEqual([3])
    expect(analyze(`import { Hub, HubBase } from 'SRC'\n@Hub()\nexport class VHub extends HubBase {}\n`).versions).toEqual([undefined])
    expect(analyze(`import { Hub, HubBase } from 'SRC'\n@Hub({ version: 1.5 })\nexport class VHub extends HubBase {}\n`).messages).toEqual([
      'hub.ts:2: VHub @Hub: @Hub version must be a positive integer literal (1, 2, ...), so im generate can read it without running the hub',
    ])
  }, 30_000)

  it('refuses an unknown option of our decorators, which the compiler reports', () => {
    const { messages } = analyze(`import { Hub, HubBase, HubMethod } from 'SRC'
@Hub()
export class OptHub extends HubBase {
  @HubMethod({ nmae: 'x' })
  go(): void {}
}
`)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/^hub\.ts:4: Object literal may only specify known properties, and 'nmae' does not exist in type 'HubMethodOptions'\. \(TS2353\)$/)
  }, 30_000)
})

describe('imports', () => {
  it('refuses a package that is not installed, accepts one that is (with or without types) and built-in modules', () => {
    const { messages } = analyze(`import { Hub, HubBase } from 'SRC'
import { readFileSync } from 'node:fs'
import { join } from 'path'
import commander from 'commander'
import missing from 'no-such-package-here'
@Hub()
export class ImportsHub extends HubBase {}
`, resolve('.')) // in this checkout, where commander is installed
    expect(messages).toEqual(["hub.ts:5: cannot find module 'no-such-package-here' (imported from here)"])
  }, 30_000)
})
