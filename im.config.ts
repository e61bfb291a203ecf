/**
 * IMService settings. Every value here can be overridden by an IM_* environment variable
 * (docs/configuration.md), so one build runs in every environment.
 */
import { defineConfig } from './src/index.js'

export default defineConfig({
  port: 5000,
  hubsDir: 'hubs',
  generatedDir: 'generated',
  hubs: {
    pathPrefix: '/signalr-hubs',
  },
  // nats: { url: 'nats://127.0.0.1:4222' },        // set to insist on NATS (retried, never replaced)
  // jwt: { secret: process.env.IM_JWT_SECRET },      // or publicKey / jwksUrl; see docs/configuration.md
  // topics: { rules: [{ pattern: 'user.{userId}.>', watch: 'owner', publish: 'authenticated' }] },  // who may watch / publish; docs/configuration.md, Topic access
})
