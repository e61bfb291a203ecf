/**
 * The ts-morph program `im generate` reads: the hub files of one folder and the TypeScript
 * sources they import. Declaration files of packages (node_modules .d.ts, @types) are left out:
 * payload types must be the project's own, and skipping them makes the program a third of the
 * size (the difference between about one second and several). Compiler options are fixed (the
 * ones IMService runs hubs with), so a project's tsconfig cannot change how a hub is read.
 * Files are listed the way src/server/load-hubs.ts loads them: every .ts / .js file in the
 * folder, not tests or declarations.
 */
import { existsSync, readdirSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { ModuleKind, ModuleResolutionKind, Project, ScriptTarget, ts } from 'ts-morph'
import type { SourceFile } from 'ts-morph'
import { ImError, ImErrorCode } from '../errors.js'
import { frameworkFiles, frameworkRoot } from './framework.js'

const HUB_FILE = /^(?!.*\.(?:test|spec|d)\.[cm]?[jt]s$).*\.[cm]?[jt]s$/

export interface HubsProject {
  readonly project: Project
  readonly hubFiles: readonly SourceFile[]
  readonly envelopeFile: SourceFile
  /** Imports that resolve to nothing at all (not even a package's declaration file), by importing file. */
  readonly unresolved: readonly UnresolvedImport[]
}

export interface UnresolvedImport {
  /** Absolute path of the importing file. */
  readonly file: string
  readonly specifier: string
}

export function openHubsProject(hubsDir: string): HubsProject {
  const folder = resolve(hubsDir)
  let names: string[]
  try {
    names = readdirSync(folder).filter((f) => HUB_FILE.test(f)).sort()
  } catch (error) {
    throw new ImError(ImErrorCode.ConfigInvalid, `cannot read the hubs folder ${folder}`, { cause: error })
  }
  const unresolved: UnresolvedImport[] = []
  const project = createProject(unresolved)
  const hubFiles = names.map((name) => project.addSourceFileAtPath(join(folder, name)))
  const envelopeFile = project.addSourceFileAtPath(frameworkFiles.envelope)
  project.resolveSourceFileDependencies()
  return { project, hubFiles, envelopeFile, unresolved }
}

/** A program over exactly these files (hub sources found at run time) and what they import. */
export function openSourcesProject(files: readonly string[]): { project: Project; sourceFiles: SourceFile[] } {
  const project = createProject([])
  const sourceFiles = files.map((file) => project.addSourceFileAtPath(file))
  project.addSourceFileAtPath(frameworkFiles.envelope)
  project.resolveSourceFileDependencies()
  return { project, sourceFiles }
}

/** The program with IMService's fixed options; imports that resolve to nothing are added to `unresolved`. */
function createProject(unresolved: UnresolvedImport[]): Project {
  return new Project({
    skipAddingFilesFromTsConfig: true,
    compilerOptions: {
      target: ScriptTarget.ES2022,
      module: ModuleKind.NodeNext,
      moduleResolution: ModuleResolutionKind.NodeNext,
      strict: true,
      experimentalDecorators: true,
      allowJs: true,
      skipLibCheck: true,
      noEmit: true,
      lib: ['lib.es2023.d.ts'],
      types: [],
    },
    resolutionHost: (host, getOptions) => ({
      resolveModuleNames: (names, containingFile) =>
        names.map((name) => {
          const resolved = ts.resolveModuleName(name, containingFile, getOptions(), host).resolvedModule
          if (!resolved && isMissing(name, containingFile) && !unresolved.some((u) => u.file === containingFile && u.specifier === name)) unresolved.push({ file: containingFile, specifier: name })
          // Sources (ours, a linked workspace package) are read; packages' declaration files are
          // not, except ours when this runs installed, where our decorators are declarations.
          const readable = resolved && (!resolved.extension.startsWith('.d.') || resolved.resolvedFileName.startsWith(`${frameworkRoot}/`))
          return readable ? resolved : undefined
        }),
    }),
  })
}

/**
 * An import TypeScript could not resolve that is really missing: a relative or absolute path, or
 * a package that is not installed. Built-in modules, `#` subpath imports and installed packages
 * without types (which TypeScript may not resolve, yet Node loads) are not.
 */
function isMissing(specifier: string, from: string): boolean {
  if (isBuiltin(specifier) || specifier.startsWith('#')) return false
  if (specifier.startsWith('.') || specifier.startsWith('/')) return true
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules', name))) return false
    if (dirname(dir) === dir) return true
  }
}
