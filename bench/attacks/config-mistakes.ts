/**
 * What a node makes of common configuration mistakes: accepted silently, or refused at start-up
 * with the reason. `npx tsx bench/attacks/config-mistakes.ts [<checkout>]` resolves each case with
 * the resolveConfig of this checkout, or of another one (e.g. a worktree of an older commit) to
 * compare. Nothing is started; nothing is sent.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

interface Resolved {
  readonly port: number
  readonly jwt?: unknown
  readonly nats: { readonly url: string }
  readonly hubs: { readonly keepAliveIntervalMs: number }
}

const root = resolve(process.argv[2] ?? '.')
const { resolveConfig } = (await import(pathToFileURL(`${root}/src/config/load-config.ts`).href)) as {
  resolveConfig: (input: object, env: Record<string, string>) => Resolved
}

const cases: ReadonlyArray<readonly [string, Record<string, string>, object]> = [
  ['IM_PROT=6000', { IM_PROT: '6000' }, {}],
  ['IM_JWT_SECRETS=<36 bytes>', { IM_JWT_SECRETS: 'a-test-secret-of-at-least-32-bytes!!' }, {}],
  ['im.config.ts hubs.keepAliveIntervallMs: 1000', {}, { hubs: { keepAliveIntervallMs: 1000 } }],
  ['IM_NATS_URL=nats//host', { IM_NATS_URL: 'nats//host' }, {}],
  ['IM_NATS_URL=http://host:4222', { IM_NATS_URL: 'http://host:4222' }, {}],
  ['IM_NATS_URL=ws://host:8080', { IM_NATS_URL: 'ws://host:8080' }, {}],
  ['IM_JWT_SECRET=abc', { IM_JWT_SECRET: 'abc' }, {}],
]

console.log(`resolveConfig of ${root}`)
for (const [name, env, input] of cases) {
  try {
    const config = resolveConfig(input, env)
    console.log(`  ${name}: ACCEPTED: port ${config.port}, keep-alive ${config.hubs.keepAliveIntervalMs} ms, auth ${config.jwt ? 'on' : 'off'}, nats ${config.nats.url}`)
  } catch (error) {
    console.log(`  ${name}: refused: ${(error as Error).message}`)
  }
}
