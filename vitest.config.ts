import { defaultServerConditions } from 'vite'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // Tests that import 'imservice' get the TypeScript sources, not a build in dist/ (package.json
  // exports; tsconfig.json names the same condition for the type check).
  ssr: { resolve: { conditions: ['imservice-source', ...defaultServerConditions] } },
  test: {
    include: ['test/**/*.test.ts'],
    // Integration suites each start their own nats-server and servers; two cores, so keep it modest.
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
})
