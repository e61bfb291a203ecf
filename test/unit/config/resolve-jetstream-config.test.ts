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
    })
  })

  it('take replicas as auto or 1 to 5, and the pull expiry and heartbeat of the consumer', () => {
    expect(resolveConfig({ jetstream: { replicas: 3 } }, {}).jetstream.replicas).toBe(3)
    expect(resolveConfig({}, { IM_JETSTREAM_REPLICAS: '5' }).jetstream.replicas).toBe(5)
    expect(resolveConfig({ jetstream: { replicas: 1 } }, { IM_JETSTREAM_REPLICAS: 'auto' }).jetstream.replicas).toBe('auto')
    expect(resolveConfig({}, { IM_JETSTREAM_PULL_EXPIRES_MS: '10000', IM_JETSTREAM_HEARTBEAT_MS: '2000' }).jetstream).toMatchObject({ pullExpiresMs: 10_000, heartbeatMs: 2000 })
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
