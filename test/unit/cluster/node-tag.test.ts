import { describe, expect, it } from 'vitest'
import { isNodeTag, newConnectionKey, newIncarnation, nodeTag, tagOf } from '../../../src/cluster/node-tag.js'

const TAG = nodeTag('node-1')
/** The node's tag, then 16 random bytes in base64url (22 characters). */
const KEY = new RegExp(`^${TAG}[A-Za-z0-9_-]{22}$`)

describe('node tags', () => {
  it('derives a six-character base64url tag from the node id, the same on every call', () => {
    expect(TAG).toMatch(/^[A-Za-z0-9_-]{6}$/)
    expect(nodeTag('node-1')).toBe(TAG)
    expect(nodeTag('node-2')).not.toBe(TAG)
  })

  it('gives each life of a node id its own tag, in the same six-character form', () => {
    const first = newIncarnation()
    const second = newIncarnation()
    expect(second).not.toBe(first)
    expect(nodeTag('node-1', first)).toMatch(/^[A-Za-z0-9_-]{6}$/)
    expect(nodeTag('node-1', first)).toBe(nodeTag('node-1', first))
    expect(nodeTag('node-1', second)).not.toBe(nodeTag('node-1', first))
    expect(nodeTag('node-1', first)).not.toBe(TAG)
  })

  it('makes keys of the tag and 16 random bytes in base64url, none twice across pool refills', () => {
    const keys = new Set(Array.from({ length: 1000 }, () => newConnectionKey(TAG)))
    expect(keys.size).toBe(1000)
    for (const key of keys) expect(key).toMatch(KEY)
  })

  it('reads the tag back from a key, and none from what no node could have issued', () => {
    expect(tagOf(newConnectionKey(TAG))).toBe(TAG)
    expect(tagOf('AAAAAAnotatoken')).toBe('AAAAAA')
    expect(tagOf('*.>abc')).toBeUndefined()
    expect(tagOf('short')).toBeUndefined()
  })

  it('accepts as a tag only six characters that are safe as a subject token', () => {
    expect(isNodeTag(TAG)).toBe(true)
    for (const notATag of ['', 'AAAAA', 'AAAAAAA', 'AA.AAA', 'AAAAA*', 'AAAAA>', 'AAA AA']) expect(isNodeTag(notATag)).toBe(false)
  })
})
