/**
 * The authorizer client against the in-process bus (the NATS bus is exercised in
 * test/integration/topic-access.test.ts): what is asked, what is kept, and how answers a service
 * should not give are refused.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { EmbeddedBus } from '../../../src/bus/embedded-bus.js'
import { silentLogger } from '../../../src/logger.js'
import { Metrics } from '../../../src/metrics.js'
import { TopicAuthorizer } from '../../../src/hub/topic-authorizer.js'

const SUBJECT = 'im.default.authorize'
const encoder = new TextEncoder()
const decoder = new TextDecoder()
const dora = { userId: 'dora', claims: { sub: 'dora' }, connectionId: 'c1' }
let bus: EmbeddedBus

afterEach(async () => {
  await bus?.close()
})

/** A service answering every request with `answer(request)` (undefined: silence). */
function authorizer(answer: (request: Record<string, unknown>) => string | undefined, cacheTtlMs = 60_000) {
  bus = new EmbeddedBus()
  const requests: Record<string, unknown>[] = []
  bus.subscribe(SUBJECT, (message) => {
    const request = JSON.parse(decoder.decode(message.data)) as Record<string, unknown>
    requests.push(request)
    const text = answer(request)
    if (text !== undefined && message.reply) void bus.publish(message.reply, encoder.encode(text))
  })
  const metrics = new Metrics()
  const client = new TopicAuthorizer({ bus, subject: SUBJECT, timeoutMs: 50, cacheTtlMs, cacheSize: 100, metrics, logger: silentLogger })
  return { client, requests, metrics }
}

describe('TopicAuthorizer', () => {
  it('asks with action, topic, user, claims and connection; keeps the answer per action, topic and user', async () => {
    const { client, requests, metrics } = authorizer(() => '{"allow":true}')
    expect(await client.decide('watch', 'orders.1', dora)).toEqual({ allow: true })
    expect(await client.decide('watch', 'orders.1', { ...dora, connectionId: 'c2' })).toEqual({ allow: true })
    await client.decide('publish', 'orders.1', dora)
    await client.decide('watch', 'orders.1', { userId: undefined, claims: {}, connectionId: 'c3' })
    expect(requests).toEqual([
      { action: 'watch', topic: 'orders.1', userId: 'dora', claims: { sub: 'dora' }, connectionId: 'c1' },
      { action: 'publish', topic: 'orders.1', userId: 'dora', claims: { sub: 'dora' }, connectionId: 'c1' },
      { action: 'watch', topic: 'orders.1', userId: null, claims: {}, connectionId: 'c3' },
    ])
    expect(metrics.snapshot()).toEqual({ topic_authorizer_requests: 3, topic_authorizer_cache_hits: 1 })
  })

  it.each([
    ['a refusal with its reason', '{"allow":false,"reason":"  not your order.  "}', 'not your order.', true],
    ['a refusal without reason', '{"allow":false}', 'the authorizer refused', true],
    ['a reason too long', JSON.stringify({ allow: false, reason: 'x'.repeat(500) }), 'x'.repeat(200), true],
    ['an answer that is not JSON', 'yes', "the authorizer's answer could not be read", false],
    ['allow as a string', '{"allow":"true"}', "the authorizer's answer could not be read", false],
    ['an array', '[true]', "the authorizer's answer could not be read", false],
  ])('refuses on %s', async (_name, answer, reason, kept) => {
    const { client, requests } = authorizer(() => answer)
    expect(await client.decide('watch', 'orders.1', dora)).toEqual({ allow: false, reason, answered: kept })
    await client.decide('watch', 'orders.1', dora)
    // A real refusal is kept; an answer that could not be read is asked again.
    expect(requests).toHaveLength(kept ? 1 : 2)
  })

  it('refuses on silence and when nobody listens, with distinct reasons and counters, keeping neither', async () => {
    const { client, requests, metrics } = authorizer(() => undefined)
    expect(await client.decide('watch', 'orders.1', dora)).toEqual({ allow: false, reason: 'the authorizer did not answer within 50 ms', answered: false })
    await client.decide('watch', 'orders.1', dora)
    expect(requests).toHaveLength(2)
    const lonely = new TopicAuthorizer({ bus, subject: 'im.other.authorize', timeoutMs: 50, cacheTtlMs: 60_000, cacheSize: 10, metrics, logger: silentLogger })
    expect(await lonely.decide('watch', 'orders.1', dora)).toEqual({ allow: false, reason: 'no authorizer service is listening on im.other.authorize', answered: false })
    expect(metrics.snapshot()).toMatchObject({ topic_authorizer_timeouts: 2, topic_authorizer_no_responders: 1 })
  })
})
