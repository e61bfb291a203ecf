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
    })
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
  ])('refuses %j', (env, message) => {
    expect(() => resolveConfig({}, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: expect.stringContaining(message) }))
  })
})
