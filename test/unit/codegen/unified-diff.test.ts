import { describe, expect, it } from 'vitest'
import { unifiedDiff } from '../../../src/codegen/unified-diff.js'

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', 'x.ts')).toBe('')
  })

  it('shows one hunk with three lines of context', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9', ''].join('\n')
    const after = before.replace('5\n', 'five\n')
    expect(unifiedDiff(before, after, 'client/chat.ts')).toBe(
      ['--- a/client/chat.ts', '+++ b/client/chat.ts', '@@ -2,7 +2,7 @@', ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8', ''].join('\n'),
    )
  })

  it('splits distant changes into separate hunks', () => {
    const before = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n') + '\n'
    const after = before.replace('line 2\n', 'line two\n').replace('line 19\n', 'line nineteen\n')
    expect(unifiedDiff(before, after, 'f').match(/^@@/gm)).toHaveLength(2)
  })

  it('diffs a new file and a deleted one against /dev/null', () => {
    expect(unifiedDiff('', 'a\n', 'new.ts')).toBe('--- /dev/null\n+++ b/new.ts\n@@ -0,0 +1,1 @@\n+a\n')
    expect(unifiedDiff('a\n', '', 'old.ts')).toBe('--- a/old.ts\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-a\n')
  })
})
