/** The files `im init` writes: a project that serves, generates and type-checks at once. */

export const CONFIG = `/**
 * IMService settings. Every value here can be overridden by an IM_* environment variable, so one
 * build runs in every environment (node_modules/imservice/docs/configuration.md).
 */
import { defineConfig } from 'imservice'

export default defineConfig({
  port: 5000,
  hubsDir: 'hubs',
  generatedDir: 'generated',
  // nats: { url: 'nats://127.0.0.1:4222' },   // set to insist on NATS; without it a lone node runs on an embedded bus
  // jwt: { secret: process.env.IM_JWT_SECRET },
})
`

export const EXAMPLE_HUB = `/**
 * An example hub, served at /signalr-hubs/greetings. Clients call \`hello\`; a service publishing
 * \`{ "text": "..." }\` to greetings.broadcast reaches every connection as \`greeting\`.
 */
import { Hub, HubBase, HubException, HubMethod, Subscribe } from 'imservice'

/** What the server calls on clients. */
export interface GreetingsClient {
  greeting(text: string): void
}

export interface Broadcast {
  text: string
}

@Hub()
export class GreetingsHub extends HubBase<GreetingsClient> {
  @HubMethod()
  hello(name: string): string {
    if (name.length > 100) throw new HubException('name too long')
    return \`Hello, \${name}\`
  }

  @Subscribe('greetings.broadcast')
  async broadcast(message: Broadcast): Promise<void> {
    await this.clients.all.greeting(message.text)
  }
}
`

/** The options IMService's decorators need; \`im serve\` compiles hubs with them whatever this file says. */
export const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    experimentalDecorators: true,
    useDefineForClassFields: false,
    verbatimModuleSyntax: true,
    skipLibCheck: true,
    types: ['node'],
    noEmit: true,
  },
  include: ['hubs', 'generated', 'im.config.ts'],
}

export const SCRIPTS: Readonly<Record<string, string>> = {
  serve: 'im serve',
  generate: 'im generate',
  check: 'tsc --noEmit -p tsconfig.json && im generate --check',
}

/** For \`npm run check\`; installed by the next \`npm install\`. */
export const DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  typescript: '~6.0.3',
  '@types/node': '^20.19.0',
}

/**
 * @nats-io/nuid 3 declares Node >= 22 although it runs on Node 20 (it needs only
 * globalThis.crypto); 2.0.3 has the same API and declares Node >= 18, so installs stop warning.
 */
export const OVERRIDES: Readonly<Record<string, string>> = {
  '@nats-io/nuid': '2.0.3',
}

export const GITIGNORE = `node_modules/
*.log
`
