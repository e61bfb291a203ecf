import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/load-config.js'
import { ImErrorCode } from '../../../src/errors.js'

describe('jetstream settings', () => {
  it('are off by default', () => {
    expect(resolveConfig({}, {}).jetstream).toEqual({
      forward: [],
      subjects: ['im.default.send', 'im.default.send.>', 'im.default.groups.>'],
      publishTimeoutMs: 5000,
      duplicateWindowMs: 300_000,
      maxAgeMs: 3_600_000,
      consumerInactiveMs: 3_600_000,
      replicas: 'auto',
      pullExpiresMs: 5000,
      heartbeatMs: 1000,
      offline: { enabled: false, ttlMs: 604_800_000, maxPerUser: 1000, stream: 'IM_OFFLINE', cursorBucket: 'im-offline-cursors' },
    })
  })

  it('take replicas as auto or 1 to 5, and the pull expiry and heartbeat of the consumer', () => {
    expect(resolveConfig({ jetstream: { replicas: 3 } }, {}).jetstream.replicas).toBe(3)
    expect(resolveConfig({}, { IM_JETSTREAM_REPLICAS: '5' }).jetstream.replicas).toBe(5)
    expect(resolveConfig({ jetstream: { replicas: 1 } }, { IM_JETSTREAM_REPLICAS: 'auto' }).jetstream.replicas).toBe('auto')
    expect(resolveConfig({}, { IM_JETSTREAM_PULL_EXPIRES_MS: '10000', IM_JETSTREAM_HEARTBEAT_MS: '2000' }).jetstream).toMatchObject({ pullExpiresMs: 10_000, heartbeatMs: 2000 })
  })

  it('take the offline delivery settings from the file and IM_OFFLINE_* variables', () => {
    const config = resolveConfig(
      { jetstream: { stream: 'IM_DEFAULT', offline: { enabled: true, maxPerUser: 10 } } },
      { IM_OFFLINE_TTL_MS: '60000', IM_OFFLINE_STREAM: 'KEPT', IM_OFFLINE_CURSOR_BUCKET: 'cursors' },
    ).jetstream.offline
    expect(config).toEqual({ enabled: true, ttlMs: 60_000, maxPerUser: 10, stream: 'KEPT', cursorBucket: 'cursors' })
  })

  it("take offline delivery with any hub's user subject among the stream's subjects, not only the DefaultHub's", () => {
    for (const subjects of ['im.inbox.send.user', 'im.*.send.user', 'im.inbox.send.>', 'im.>']) {
      expect(resolveConfig({}, { IM_OFFLINE_DELIVERY: 'true', IM_JETSTREAM_STREAM: 'S', IM_JETSTREAM_SUBJECTS: subjects }).jetstream.offline.enabled).toBe(true)
    }
  })

  it('take the file and let IM_* variables override it', () => {
    const config = resolveConfig(
      { jetstream: { forward: ['im.default.receive.>'], stream: 'FROM_FILE' } },
      { IM_JETSTREAM_STREAM: 'IM_DEFAULT', IM_JETSTREAM_SUBJECTS: 'im.default.send, im.default.send.>', IM_JETSTREAM_PUBLISH_TIMEOUT_MS: '2000' },
    ).jetstream
    expect(config).toMatchObject({
      forward: ['im.default.receive.>'],
      stream: 'IM_DEFAULT',
      subjects: ['im.default.send', 'im.default.send.>'],
      publishTimeoutMs: 2000,
    })
  })

  it.each([
    [{ IM_JETSTREAM_STREAM: 'im.default' }, 'IM_JETSTREAM_STREAM must be a stream name of letters, digits'],
    [{ IM_JETSTREAM_FORWARD: 'im..receive' }, 'IM_JETSTREAM_FORWARD must list NATS subjects: "im..receive" is not valid'],
    [{ IM_JETSTREAM_SUBJECTS: 'im.>.send' }, 'IM_JETSTREAM_SUBJECTS must list NATS subjects'],
    [{ IM_JETSTREAM_PUBLISH_TIMEOUT_MS: '0' }, 'IM_JETSTREAM_PUBLISH_TIMEOUT_MS must be an integer from 1'],
    [{ IM_OFFLINE_DELIVERY: 'true' }, "IM_OFFLINE_DELIVERY needs a JetStream stream holding the hubs' im.<hub>.send.user: set IM_JETSTREAM_STREAM (its default subjects hold im.default.send.user)"],
    [{ IM_OFFLINE_DELIVERY: '1', IM_JETSTREAM_STREAM: 'S', IM_JETSTREAM_SUBJECTS: 'im.default.send, im.default.groups.>' }, "IM_OFFLINE_DELIVERY needs a hub's im.<hub>.send.user (such as im.default.send.user) among IM_JETSTREAM_SUBJECTS (now im.default.send, im.default.groups.>)"],
    [{ IM_OFFLINE_DELIVERY: '1', IM_JETSTREAM_STREAM: 'IM_OFFLINE' }, 'the offline store stream must not be the stream IM_OFFLINE that captures the messages'],
    [{ IM_OFFLINE_MAX_PER_USER: '0' }, 'IM_OFFLINE_MAX_PER_USER must be an integer from 1'],
    [{ IM_OFFLINE_TTL_MS: '10' }, 'IM_OFFLINE_TTL_MS must be an integer from 1000'],
    [{ IM_OFFLINE_CURSOR_BUCKET: 'a.b' }, 'IM_OFFLINE_CURSOR_BUCKET must be a KV bucket name'],
    [{ IM_JETSTREAM_REPLICAS: '0' }, 'IM_JETSTREAM_REPLICAS must be auto or an integer from 1 to 5, got "0"'],
    [{ IM_JETSTREAM_REPLICAS: '6' }, 'IM_JETSTREAM_REPLICAS must be auto or an integer from 1 to 5, got "6"'],
    [{ IM_JETSTREAM_REPLICAS: 'three' }, 'IM_JETSTREAM_REPLICAS must be auto or an integer from 1 to 5, got "three"'],
    [{ IM_JETSTREAM_PULL_EXPIRES_MS: '500' }, 'IM_JETSTREAM_PULL_EXPIRES_MS must be an integer from 1000 to 60000'],
    [{ IM_JETSTREAM_HEARTBEAT_MS: '100' }, 'IM_JETSTREAM_HEARTBEAT_MS must be an integer from 500 to 30000'],
    [{ IM_JETSTREAM_HEARTBEAT_MS: '3000' }, 'IM_JETSTREAM_HEARTBEAT_MS (3000) must be at most half of IM_JETSTREAM_PULL_EXPIRES_MS (5000)'],
  ])('refuses %j', (env, message) => {
    expect(() => resolveConfig({}, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining(message) }))
  })
})
