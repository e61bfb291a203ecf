/**
 * docs/hubs.md shows code that runs: its ChatHub is test/fixtures/hubs/guide-chat-hub.ts and its
 * vitest example is test/integration/hubs-guide-example.test.ts, apart from their import paths.
 */
import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const guide = read('docs/hubs.md')

it('shows the ChatHub that the tests run', () => {
  const fixture = read('test/fixtures/hubs/guide-chat-hub.ts')
  const asInGuide = fixture.slice(fixture.indexOf('\n') + 1).replace("'../../../src/index.js'", "'../src/index.js'")
  expect(guide).toContain('```ts\n' + asInGuide + '```')
})

it('shows the vitest example that the tests run', () => {
  const example = read('test/integration/hubs-guide-example.test.ts')
  const asInGuide = example.replace("'../fixtures/hubs/guide-chat-hub.js'", "'../hubs/chat-hub.js'")
  expect(guide).toContain('```ts\n' + asInGuide + '```')
})
