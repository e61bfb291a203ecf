/**
 * The layers of src/ (the LAYERS table below says who may import whom): each relative
 * import in src/ is checked against what its layer may import, and every file against the size
 * cap. A failure prints the file, the import and the rule it broke.
 */
import { isBuiltin } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Node, Project, SyntaxKind } from 'ts-morph'
import type { SourceFile } from 'ts-morph'
import { describe, expect, it } from 'vitest'

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src')
const MAX_LINES = 400

/** `value`: any import; `type`: `import type` / `export type` only. */
type Use = 'value' | 'type'

interface LayerRule {
  /** Our layers this one may import, and how. Its own layer must be listed too. */
  readonly layers: Readonly<Record<string, Use>>
  /** Files (relative to src/) that may be imported as values although their layer is type-only or absent. */
  readonly files?: readonly string[]
  /** Packages and node modules this layer must never import, with the reason printed on failure. */
  readonly forbidden?: ReadonlyArray<{ readonly test: (specifier: string) => boolean; readonly what: string }>
}

const WS = { test: (s: string) => s === 'ws' || s.startsWith('ws/'), what: 'ws' }
const NATS = { test: (s: string) => s.startsWith('@nats-io/'), what: '@nats-io/*' }
const NODE_HTTP = { test: (s: string) => /^(node:)?https?$/.test(s), what: 'node:http' }
const NODE_ANY = { test: (s: string) => isBuiltin(s), what: 'node:* (the protocol layer is pure)' }

/** `undefined`: the composition root, which may import anything. */
const LAYERS: Readonly<Record<string, LayerRule | undefined>> = {
  protocol: { layers: { protocol: 'value' }, forbidden: [NODE_ANY] },
  errors: { layers: { errors: 'value' } },
  logger: { layers: { logger: 'value' } },
  metrics: { layers: { metrics: 'value' } },
  bus: { layers: { bus: 'value', errors: 'value', logger: 'value' } },
  auth: { layers: { auth: 'value', errors: 'value', config: 'type' } },
  config: { layers: { config: 'value', errors: 'value' } },
  transports: { layers: { transports: 'value', errors: 'value' } },
  connection: {
    layers: { connection: 'value', protocol: 'value', errors: 'value', logger: 'value', transports: 'type', auth: 'type' },
    forbidden: [WS],
  },
  lifetime: {
    layers: { lifetime: 'value', protocol: 'value', errors: 'value', bus: 'type', logger: 'type', connection: 'type' },
    forbidden: [WS],
  },
  hub: {
    layers: {
      hub: 'value',
      protocol: 'value',
      errors: 'value',
      lifetime: 'value',
      logger: 'type',
      metrics: 'type',
      bus: 'type',
      connection: 'type',
      config: 'type',
    },
    files: ['bus/subjects.ts'],
    forbidden: [WS, NATS, NODE_HTTP],
  },
  codegen: { layers: { codegen: 'value', errors: 'value' }, files: ['bus/subjects.ts', 'hub/hub-name.ts', 'hub/binding.ts'] },
  // Node-to-node routing of connections: speaks to other nodes through the Bus seam only, and
  // knows connections and transports by their types (the HTTP side stays in server/).
  cluster: {
    layers: {
      cluster: 'value',
      errors: 'value',
      auth: 'type',
      bus: 'type',
      connection: 'type',
      transports: 'type',
      logger: 'type',
      metrics: 'type',
    },
    forbidden: [WS, NATS, NODE_HTTP],
  },
  // The HTTP endpoints: they build connections and transports, and reach NATS through bus/ only.
  server: {
    layers: {
      server: 'value',
      cluster: 'value',
      auth: 'value',
      bus: 'value',
      config: 'type',
      connection: 'value',
      errors: 'value',
      hub: 'value',
      logger: 'type',
      metrics: 'type',
      protocol: 'value',
      transports: 'value',
    },
    // The hub model that type-checks arguments, read at start-up (the last two imported lazily: ts-morph is heavy).
    files: ['codegen/contract-cache.ts', 'codegen/hub-binders.ts', 'codegen/read-hub-sources.ts'],
    forbidden: [NATS],
  },
  root: undefined,
}

/** The composition root (src/server.ts and the public API in src/index.ts) may import anything. */
const ROOT_FILES = new Set(['server.ts', 'index.ts'])

/** `protocol/messages.ts` -> `protocol`; `errors.ts` -> `errors`; `server/*` -> `server`; `server.ts` -> `root`. */
function layerOf(path: string): string {
  if (ROOT_FILES.has(path)) return 'root'
  const slash = path.indexOf('/')
  return slash >= 0 ? path.slice(0, slash) : path.replace(/\.ts$/, '')
}

interface ImportEdge {
  readonly from: string
  readonly specifier: string
  readonly typeOnly: boolean
  readonly line: number
}

/** Every import, re-export and dynamic import of a file, with whether it is erased at run time. */
function importsOf(file: SourceFile, from: string): ImportEdge[] {
  const edges: ImportEdge[] = []
  for (const declaration of file.getImportDeclarations()) {
    // `import { type A }` is still a run-time import under verbatimModuleSyntax; only `import type` is erased.
    edges.push({ from, specifier: declaration.getModuleSpecifierValue(), typeOnly: declaration.isTypeOnly(), line: declaration.getStartLineNumber() })
  }
  for (const declaration of file.getExportDeclarations()) {
    const specifier = declaration.getModuleSpecifierValue()
    if (specifier !== undefined) edges.push({ from, specifier, typeOnly: declaration.isTypeOnly(), line: declaration.getStartLineNumber() })
  }
  for (const call of file.getDescendantsOfKind(SyntaxKind.CallExpression)) {
    const [argument] = call.getArguments()
    if (call.getExpression().getKind() === SyntaxKind.ImportKeyword && argument && Node.isStringLiteral(argument)) {
      edges.push({ from, specifier: argument.getLiteralValue(), typeOnly: false, line: call.getStartLineNumber() })
    }
  }
  return edges
}

/** Why `edge` breaks its layer's rule, or undefined when it is allowed. */
function violation(edge: ImportEdge, rule: LayerRule, layer: string): string | undefined {
  const where = `src/${edge.from}:${edge.line} imports "${edge.specifier}"`
  if (!edge.specifier.startsWith('.')) {
    const banned = rule.forbidden?.find((f) => f.test(edge.specifier))
    return banned ? `${where}: ${layer} must never import ${banned.what}` : undefined
  }
  const target = relative(SRC, join(SRC, dirname(edge.from), edge.specifier)).replace(/\.js$/, '.ts')
  if (target.startsWith('..')) return `${where}: ${layer} must not import from outside src/`
  if (rule.files?.includes(target)) return undefined
  const targetLayer = layerOf(target)
  const use = rule.layers[targetLayer]
  if (use === undefined) {
    const allowed = [...Object.entries(rule.layers).map(([l, u]) => (u === 'type' ? `${l} (type)` : l)), ...(rule.files ?? [])]
    return `${where}: ${layer} may import only ${allowed.join(', ')}; not ${targetLayer}`
  }
  if (use === 'type' && !edge.typeOnly) return `${where} as a value: ${layer} may import ${targetLayer} with \`import type\` only`
  return undefined
}

const project = new Project({ skipAddingFilesFromTsConfig: true, skipFileDependencyResolution: true })
const files = project
  .addSourceFilesAtPaths(join(SRC, '**/*.ts'))
  .map((file) => ({ file, path: relative(SRC, file.getFilePath()).split('\\').join('/') }))
  .sort((a, b) => a.path.localeCompare(b.path))

describe('architecture', () => {
  it('finds the source files', () => {
    expect(files.length).toBeGreaterThan(20)
  })

  it('has a layer rule for every file in src/', () => {
    const unknown = files.filter(({ path }) => !(layerOf(path) in LAYERS)).map(({ path }) => `src/${path}: no layer rule for "${layerOf(path)}"; add one to test/architecture.test.ts`)
    expect(unknown, unknown.join('\n')).toEqual([])
  })

  const checked = Object.entries(LAYERS).filter((entry): entry is [string, LayerRule] => entry[1] !== undefined)
  it.each(checked)('%s imports only what its layer allows', (layer, rule) => {
    const broken = files
      .filter(({ path }) => layerOf(path) === layer)
      .flatMap(({ file, path }) => importsOf(file, path))
      .map((edge) => violation(edge, rule, layer))
      .filter((problem): problem is string => problem !== undefined)
    expect(broken, `\n${broken.join('\n')}\n`).toEqual([])
  })

  // The write path batches on clocks (see docs/performance.md, "Where writes leave"): what it
  // holds belongs to an instance the server creates, never to the module, so two servers in one
  // process (the tests run several) never share a flush.
  it('keeps no mutable state at module level in the write path (src/transports, src/bus)', () => {
    const found = files
      .filter(({ path }) => path.startsWith('transports/') || path.startsWith('bus/'))
      .flatMap(({ file, path }) =>
        file
          .getVariableStatements()
          .filter((statement) => statement.getDeclarationKind() !== 'const')
          .map((statement) => `src/${path}:${statement.getStartLineNumber()}: module-level ${statement.getDeclarationKind()}; keep the state in an instance`),
      )
    expect(found, found.join('\n')).toEqual([])
  })

  it(`has no file in src/ over ${MAX_LINES} lines`, () => {
    const long = files
      .map(({ file, path }) => ({ path, lines: file.getEndLineNumber() - (file.getFullText().endsWith('\n') ? 1 : 0) }))
      .filter(({ lines }) => lines > MAX_LINES)
      .map(({ path, lines }) => `src/${path}: ${lines} lines (split it by job; the cap is ${MAX_LINES})`)
    expect(long, long.join('\n')).toEqual([])
  })
})
