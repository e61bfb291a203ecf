import { describe, expect, it, vi } from 'vitest'
import type { Principal } from '../../../src/auth/principal.js'
import type { InvocationHandler } from '../../../src/connection/invocation-handler.js'
import type { ClaimAnswer, ClusterRouter } from '../../../src/server/cluster-router.js'
import { ConnectionLocator } from '../../../src/server/connection-locator.js'
import { ConnectionRegistry, newConnectionKey, newIncarnation, nodeTag } from '../../../src/server/connection-registry.js'

const alice: Principal = { userId: 'alice', claims: { sub: 'alice' } }

type ClaimOptions = { resume?: boolean; at?: string; anyone?: boolean }

/** A locator whose router records the claims it is asked to send and answers them with `answer`. */
function locatorOf(tag: string, answer: (options: ClaimOptions) => ClaimAnswer | undefined) {
  const registry = new ConnectionRegistry(5000, tag)
  const claims: ClaimOptions[] = []
  const claim = vi.fn(async (_token: string, _opening: boolean, _userId: string | undefined, options: ClaimOptions = {}) => {
    claims.push(options)
    return answer(options)
  })
  const router = { claim } as unknown as ClusterRouter
  const locator = new ConnectionLocator({ registry, router, nodeTag: tag, handler: {} as InvocationHandler, groupsOf: () => [] })
  return { locator, claims, registry }
}

describe('ConnectionLocator', () => {
  // A node restarted under the same id before its tags carried an incarnation (or two lives whose
  // tags collide): the token carries this node's tag, but this node never issued it.
  it('asks every node about a resumed token of its own tag that it knows nothing of', async () => {
    const tag = nodeTag('node-1', newIncarnation())
    const offer = { offer: { connectionId: 'c1', protocol: 'json' }, holder: 'BBBBBB' } as unknown as ClaimAnswer
    const { locator, claims, registry } = locatorOf(tag, (options) => (options.anyone ? offer : { unknown: true }))
    const found = await locator.locate(newConnectionKey(tag), alice, true, true)
    expect(found).toEqual(offer)
    expect(claims).toEqual([{ resume: true, anyone: true }])
    registry.stop()
  })

  it('answers 404 for an unknown token of its own tag that is not a resume, asking nobody', async () => {
    const tag = nodeTag('node-1', newIncarnation())
    const { locator, claims, registry } = locatorOf(tag, () => undefined)
    expect(await locator.locate(newConnectionKey(tag), alice, true, false)).toBe(404)
    expect(claims).toEqual([])
    registry.stop()
  })

  it('asks the node it handed a connection to when that connection resumes here', async () => {
    const tag = nodeTag('node-1', newIncarnation())
    const { locator, claims, registry } = locatorOf(tag, () => ({ holder: 'CCCCCC' }))
    const entry = registry.create(alice, 1, true)
    registry.handOver(entry, 'CCCCCC')
    expect(await locator.locate(entry.token, alice, true, true)).toEqual({ holder: 'CCCCCC' })
    expect(claims).toEqual([{ resume: true, at: 'CCCCCC' }])
    registry.stop()
  })
})
