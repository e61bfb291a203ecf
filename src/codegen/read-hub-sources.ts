/**
 * The hub model of hub classes handed to the server, read from their source files at start-up
 * (the file each `@Hub()` was declared in) with the same analyzer `im generate` uses. This is
 * what makes the declared types available at run time for any hub: the hubs folder of
 * `im serve`, a test's fixture, an embedder's class. Each hub gets its own type table, so two
 * hubs from different files may use the same type name for different shapes. A type the
 * analyzer cannot describe (`any`, a function) reads as `unknown`, and checks nothing.
 *
 * One process reads the same files once (servers started again in tests, a restarted node in an
 * embedder): results are kept by file list and modification times. Across processes,
 * contract-cache.ts keeps them on disk.
 */
import { statSync } from 'node:fs'
import { Node, SyntaxKind } from 'ts-morph'
import type { ClassDeclaration, SourceFile } from 'ts-morph'
import { readHub } from './analyze.js'
import { decoratorName } from './framework.js'
import type { HubDefinition, TypeDeclaration } from './model.js'
import { openSourcesProject } from './project.js'
import { TypeTable } from './type-table.js'

export interface HubSource {
  readonly className: string
  /** Absolute path of the file that declares the class. */
  readonly file: string
}

export interface HubContract {
  readonly definition: HubDefinition
  /** The named types this hub's definition refers to. */
  readonly types: Readonly<Record<string, TypeDeclaration>>
}

export interface HubSourcesRead {
  /** One contract per source, in order; undefined where the class is not found (or not only once) in its file. */
  readonly contracts: readonly (HubContract | undefined)[]
  /** Absolute paths of every project file the analysis read (hubs and what they import). */
  readonly files: readonly string[]
}

const cache = new Map<string, HubSourcesRead>()

export function readHubSources(sources: readonly HubSource[]): HubSourcesRead {
  const files = [...new Set(sources.map((s) => s.file))].sort()
  const key = JSON.stringify([sources, files.map(modified)])
  const cached = cache.get(key)
  if (cached) return cached
  const { project, sourceFiles } = openSourcesProject(files)
  const byPath = new Map(sourceFiles.map((f) => [f.getFilePath() as string, f]))
  const contracts = sources.map((source) => {
    const file = byPath.get(source.file.replace(/\\/g, '/')) ?? sourceFiles[files.indexOf(source.file)]
    const cls = file && findHubClass(file, source.className)
    if (!cls) return undefined
    const table = new TypeTable(process.cwd())
    const definition = readHub(cls, cls.getDecorators().find((d) => decoratorName(d) === 'Hub')!, table, '/')
    return { definition, types: table.drain() }
  })
  const read = {
    contracts,
    files: project
      .getSourceFiles()
      .filter((f) => !f.isInNodeModules() && !f.isFromExternalLibrary() && !f.isDeclarationFile())
      .map((f) => f.getFilePath() as string)
      .sort(),
  }
  cache.set(key, read)
  return read
}

/** The @Hub class of that name, declared anywhere in the file (a test may declare it in a block). */
function findHubClass(file: SourceFile, className: string): ClassDeclaration | undefined {
  const found = file
    .getDescendantsOfKind(SyntaxKind.ClassDeclaration)
    .filter((c) => Node.isClassDeclaration(c) && c.getName() === className && c.getDecorators().some((d) => decoratorName(d) === 'Hub'))
  return found.length === 1 ? found[0] : undefined
}

function modified(file: string): number {
  try {
    return statSync(file).mtimeMs
  } catch {
    return 0
  }
}
