/**
 * What the TypeScript compiler says is wrong with the hubs before anything is read from them: a
 * model built from a file that does not parse, an import that goes nowhere or a decorator that
 * is not defined would silently lose hubs or methods (and a write would then delete their
 * generated files). Limited to what decides the model, because the program is deliberately
 * partial (packages' declaration files are left out, project.ts): syntax errors in every
 * project file, imports that resolve to nothing, and the semantic errors inside imports and
 * decorators of the hub files (`@HubMetod()` is "Cannot find name 'HubMetod'").
 */
import { relative } from 'node:path'
import { Node, ts } from 'ts-morph'
import type { Diagnostic, SourceFile } from 'ts-morph'
import type { CodegenProblem } from './codegen-error.js'
import type { HubsProject } from './project.js'

/** "Cannot find module" and kin: reported from the project's own resolution instead (packages' .d.ts are left out on purpose). */
const MODULE_NOT_FOUND = new Set([2307, 2591, 2792, 7016])

export function compilerProblems(hubs: HubsProject, root: string): CodegenProblem[] {
  const problems: CodegenProblem[] = []
  const path = (file: string): string => relative(root, file).replace(/\\/g, '/')
  const program = hubs.project.getProgram()
  const own = hubs.project.getSourceFiles().filter((f) => !f.isInNodeModules() && !f.isDeclarationFile())
  for (const file of own) {
    for (const d of program.getSyntacticDiagnostics(file)) problems.push(fromDiagnostic(d, file, path))
  }
  for (const { file, specifier } of hubs.unresolved) {
    const source = hubs.project.getSourceFile(file)
    if (!source || source.isInNodeModules()) continue
    const declaration = source.getImportDeclarations().find((i) => i.getModuleSpecifierValue() === specifier)
      ?? source.getExportDeclarations().find((e) => e.getModuleSpecifierValue() === specifier)
    problems.push({ file: path(file), line: declaration?.getStartLineNumber() ?? 1, member: '', message: `cannot find module '${specifier}' (imported from here)` })
  }
  for (const file of hubs.hubFiles) {
    const regions = [...file.getImportDeclarations(), ...file.getDescendants().filter(Node.isDecorator)]
    // Whether a module is found is decided above: the compiler cannot see packages' declarations here.
    const specifiers = file.getImportDeclarations().map((i) => i.getModuleSpecifier())
    for (const d of program.getSemanticDiagnostics(file)) {
      if (d.getCategory() !== ts.DiagnosticCategory.Error || MODULE_NOT_FOUND.has(d.getCode())) continue
      const start = d.getStart()
      const within = (r: Node): boolean => start !== undefined && start >= r.getStart() && start < r.getEnd()
      if (!regions.some(within) || specifiers.some(within)) continue
      problems.push(fromDiagnostic(d, file, path))
    }
  }
  return dedupe(problems)
}

function fromDiagnostic(d: Diagnostic, file: SourceFile, path: (file: string) => string): CodegenProblem {
  const source = d.getSourceFile() ?? file
  const start = d.getStart()
  const line = start === undefined ? 1 : source.getLineAndColumnAtPos(start).line
  return { file: path(source.getFilePath()), line, member: '', message: `${ts.flattenDiagnosticMessageText(d.compilerObject.messageText, '\n')} (TS${d.getCode()})` }
}

function dedupe(problems: readonly CodegenProblem[]): CodegenProblem[] {
  const seen = new Set<string>()
  return problems.filter((p) => {
    const key = `${p.file}:${p.line}:${p.message}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
