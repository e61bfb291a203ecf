/**
 * The Dockerfile, checked as text since no Docker daemon runs here: what the image installs, who
 * it runs as, how it is probed and how SIGTERM reaches the node.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { execForm, parseDockerfile, stageEnv } from '../support/dockerfile.js'
import type { Stage } from '../support/dockerfile.js'

const ROOT = new URL('../../', import.meta.url)
const stages = parseDockerfile(readFileSync(new URL('Dockerfile', ROOT), 'utf8'))
const runtime = stages[stages.length - 1]!
const ignored = readFileSync(new URL('.dockerignore', ROOT), 'utf8').split('\n').map((line) => line.trim())

function args(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args)
}

/** The stage a `COPY --from=<stage>` names. */
function copiedFrom(stage: Stage): Stage[] {
  return args(stage, 'COPY').flatMap((a) => {
    const from = /--from=(\S+)/.exec(a)?.[1]
    return from === undefined ? [] : [stages.find((s) => s.name === from)!]
  })
}

describe('Dockerfile', () => {
  it('builds on Node 20 slim in every stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    for (const stage of stages) expect(stage.base).toMatch(/^node:20[.\d]*-(bookworm-|bullseye-)?slim$/)
  })

  it('installs everything with npm ci in a build stage', () => {
    const build = stages.slice(0, -1).find((s) => args(s, 'RUN').some((a) => /\bnpm ci\b(?!.*--omit=dev)/.test(a)))
    expect(build, 'a stage before the last runs a full `npm ci`').toBeDefined()
  })

  it('ships production dependencies only: the final stage installs nothing and copies node_modules from an --omit=dev install', () => {
    expect(args(runtime, 'RUN').filter((a) => /\bnpm\b|\byarn\b|\bpnpm\b/.test(a))).toEqual([])
    const modules = args(runtime, 'COPY').filter((a) => /node_modules/.test(a))
    expect(modules).toHaveLength(1)
    const from = stages.find((s) => s.name === /--from=(\S+)/.exec(modules[0]!)?.[1])!
    expect(args(from, 'RUN').filter((a) => /\bnpm (ci|install)\b/.test(a))).toEqual([expect.stringMatching(/\bnpm ci\b.*--omit=dev/)])
  })

  it('copies no tests, benchmarks or dev tooling into the final stage', () => {
    const copied = args(runtime, 'COPY').join('\n')
    for (const path of ['/app/test', '/app/bench', 'vitest.config', '. .']) expect(copied).not.toContain(path)
    expect(copiedFrom(runtime).length).toBeGreaterThan(0)
  })

  it('checks the hubs and fills the contract cache at build time, before dropping root', () => {
    const order = runtime.instructions.map((i) => `${i.keyword} ${i.args}`)
    const warm = order.findIndex((line) => line === 'RUN node cli/bin.mjs serve --dry-run')
    expect(warm).toBeGreaterThan(order.findIndex((line) => line.startsWith('COPY') && line.includes('./hubs')))
    expect(warm).toBeLessThan(order.findIndex((line) => line.startsWith('USER')))
  })

  it('runs as a non-root user', () => {
    const users = args(runtime, 'USER')
    expect(users.length).toBeGreaterThan(0)
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/)
  })

  it('has a HEALTHCHECK that asks /healthz/live with node, no curl', () => {
    const [check] = args(runtime, 'HEALTHCHECK')
    expect(check).toBeDefined()
    const command = execForm(check!.replace(/^(--\S+\s+)*CMD\s+/, ''))
    expect(command?.[0]).toBe('node')
    const script = readFileSync(new URL(command![1]!, ROOT), 'utf8')
    expect(script).toContain('/healthz/live')
    expect(check).not.toMatch(/curl|wget/)
  })

  it('starts node directly in exec form, so SIGTERM reaches it: no npm, no shell', () => {
    const cmd = args(runtime, 'CMD')
    expect(cmd).toHaveLength(1)
    expect(execForm(cmd[0]!)).toEqual(['node', 'cli/bin.mjs', 'serve'])
    expect(args(runtime, 'ENTRYPOINT')).toEqual([])
  })

  it('exposes the ports the image listens on', () => {
    const env = stageEnv(runtime)
    const exposed = args(runtime, 'EXPOSE').flatMap((a) => a.split(' '))
    expect(exposed).toContain(env.IM_PORT)
    expect(exposed).toContain(env.IM_INTERNAL_PORT)
  })

  it('keeps the build context small: .dockerignore leaves out node_modules, .git and the tests', () => {
    for (const entry of ['node_modules', '.git', 'test', 'bench']) expect(ignored).toContain(entry)
  })
})
