/**
 * A setting keeps its name from im.config.ts to the part that uses it: where src/server.ts hands a
 * setting on unchanged (`x: config.hubs.y`), the option is called what the setting is called, so
 * that searching for a setting's name finds every part it drives. The exceptions are listed below
 * with their reason: groups that give several settings the shape their consumer works in, and a
 * setting reused for a second purpose under that purpose's name.
 */
import { fileURLToPath } from 'node:url'
import { Node, Project, SyntaxKind } from 'ts-morph'
import { expect, it } from 'vitest'

const SERVER = fileURLToPath(new URL('../../../src/server.ts', import.meta.url))

/** Option groups whose members are the consumer's own words, with the reason. */
const GROUPS: Readonly<Record<string, string>> = {
  // One bound in two units (hubs.maxBufferedBytes, hubs.maxBufferedMessages), checked together.
  maxBuffered: 'an outbound bound in bytes and messages',
  // A token bucket's rate and burst (hubs.maxInvocationsPerSecond, hubs.invocationBurst).
  invocationRate: 'a token bucket',
}

/** Options that take a setting for a purpose of their own, with the reason. */
const REUSES: Readonly<Record<string, string>> = {
  // While a connection's reading is held the client cannot be heard: the hub methods get as long
  // to take a stream item as the client has to send one.
  stallMs: 'hubs.clientTimeoutMs, for held client streams',
}

it('src/server.ts passes each setting it hands on unchanged under the setting\'s own name', () => {
  const file = new Project({ skipAddingFilesFromTsConfig: true }).addSourceFileAtPath(SERVER)
  const copies = file.getDescendantsOfKind(SyntaxKind.PropertyAssignment).flatMap((assignment) => {
    const value = assignment.getInitializer()
    if (!value || !Node.isPropertyAccessExpression(value) || !value.getText().startsWith('config.')) return []
    const group = assignment.getParent().getParentIfKind(SyntaxKind.PropertyAssignment)?.getName()
    return [{ name: assignment.getName(), setting: value.getName(), group, line: assignment.getStartLineNumber(), text: assignment.getText() }]
  })
  expect(copies.length).toBeGreaterThan(10)
  const renamed = copies
    .filter((copy) => copy.name !== copy.setting && !(copy.group !== undefined && copy.group in GROUPS) && !(copy.name in REUSES))
    .map((copy) => `src/server.ts:${copy.line}: ${copy.text} (call the option ${copy.setting})`)
  expect(renamed, renamed.join('\n')).toEqual([])
})
