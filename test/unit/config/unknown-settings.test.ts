import { describe, expect, it } from 'vitest'
import { closestName, editDistance } from '../../../src/config/closest-name.js'
import type { ImConfigInput } from '../../../src/config/config.js'
import { resolveConfig } from '../../../src/config/load-config.js'
import { ImErrorCode } from '../../../src/errors.js'

function expectInvalid(input: unknown, env: Record<string, string>, message: string): void {
  expect(() => resolveConfig(input as ImConfigInput, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message }))
}

describe('unknown IM_* variables', () => {
  it.each([
    ['IM_PROT', 'IM_PROT is not a setting; did you mean IM_PORT?'],
    ['IM_JWT_SECRETS', 'IM_JWT_SECRETS is not a setting; did you mean IM_JWT_SECRET?'],
    ['IM_NATS_URLS', 'IM_NATS_URLS is not a setting; did you mean IM_NATS_URL?'],
    ['IM_KEEPALIVE_MS', 'IM_KEEPALIVE_MS is not a setting; did you mean IM_KEEP_ALIVE_MS?'],
    ['IM_Port', 'IM_Port is not a setting; did you mean IM_PORT?'],
    // A name built from the im.config.ts key leads to the variable that key really has.
    ['IM_HUBS_KEEP_ALIVE_INTERVAL_MS', 'IM_HUBS_KEEP_ALIVE_INTERVAL_MS is not a setting; did you mean IM_KEEP_ALIVE_MS?'],
    ['IM_TOPICS_AUTHORIZER_ENABLED', 'IM_TOPICS_AUTHORIZER_ENABLED is not a setting; did you mean IM_TOPIC_AUTHORIZER?'],
    ['IM_LOG_LEVELS', 'IM_LOG_LEVELS is not a setting; did you mean IM_LOG_LEVEL?'],
    ['IM_SOMETHING_ELSE', 'IM_SOMETHING_ELSE is not a setting (docs/configuration.md lists the settings).'],
  ])('%s stops the node', (name, message) => {
    expectInvalid({}, { [name]: 'value' }, message)
  })

  it('refuses a misspelt secret instead of running without authentication', () => {
    expectInvalid({}, { IM_JWT_SECRETS: 'a-test-secret-of-at-least-32-bytes!!' }, 'IM_JWT_SECRETS is not a setting; did you mean IM_JWT_SECRET?')
  })

  it('refuses an unknown name even when it is empty', () => {
    expectInvalid({}, { IM_JWT_ISSUR: '' }, 'IM_JWT_ISSUR is not a setting; did you mean IM_JWT_ISSUER?')
  })

  it('names every unknown variable at once, in order', () => {
    expectInvalid({}, { IM_PROT: '1', IM_HSOT: 'x' }, 'IM_HSOT is not a setting; did you mean IM_HOST? IM_PROT is not a setting; did you mean IM_PORT?')
  })

  it('lets the log level and the repository test switches through, and ignores other prefixes', () => {
    const env = { IM_LOG_LEVEL: 'debug', IM_TEST_LOG: 'debug', IM_FUZZ_RUNS: '50', IM_FUZZ_SEED: '42', IMX_PORT: '1', NATS_SERVER_BIN: '/x', im_port: '1' }
    expect(resolveConfig({}, env).port).toBe(5000)
  })
})

describe('unknown im.config.ts keys', () => {
  it.each([
    [{ prot: 1 }, 'config key prot is not a setting; did you mean port?'],
    [{ hubs: { keepAliveIntervallMs: 1000 } }, 'config key hubs.keepAliveIntervallMs is not a setting; did you mean hubs.keepAliveIntervalMs?'],
    [{ jwt: { secrett: 'x' } }, 'config key jwt.secrett is not a setting; did you mean jwt.secret?'],
    [{ topics: { authorizer: { enabeld: true } } }, 'config key topics.authorizer.enabeld is not a setting; did you mean topics.authorizer.enabled?'],
    [{ topic: { rules: [] } }, 'config key topic is not a setting; did you mean topics?'],
    [{ nats: { URL: 'nats://a' } }, 'config key nats.URL is not a setting; did you mean nats.url?'],
    // In the wrong group: the key it was meant to be.
    [{ keepAliveIntervalMs: 1000 }, 'config key keepAliveIntervalMs is not a setting; did you mean hubs.keepAliveIntervalMs?'],
    [{ jetstream: { maxAge: 1000 } }, 'config key jetstream.maxAge is not a setting; did you mean jetstream.maxAgeMs?'],
    // A variable name written as a key.
    [{ IM_PORT: 5000 }, 'config key IM_PORT is not a setting; did you mean port?'],
    // Derived, not a setting: nats.url decides it.
    [{ nats: { explicit: true } }, 'config key nats.explicit is not a setting (docs/configuration.md lists the settings).'],
    [{ hubs: 5 }, 'config key hubs must be a group of settings like { pathPrefix, maximumReceiveMessageSize, keepAliveIntervalMs, ... }, got 5.'],
    [{ topics: { authorizer: [true] } }, 'config key topics.authorizer must be a group of settings like { enabled, timeoutMs, cacheTtlMs, ... }, got [true].'],
  ])('%j stops the node', (input, message) => {
    expectInvalid(input, {}, message)
  })

  it('refuses an unknown key whose value is undefined (a variable the file reads may be unset)', () => {
    expectInvalid({ jwt: { secrett: undefined } }, {}, 'config key jwt.secrett is not a setting; did you mean jwt.secret?')
  })

  it('names unknown keys and variables together', () => {
    expectInvalid({ prot: 1 }, { IM_PROT: '1' }, 'IM_PROT is not a setting; did you mean IM_PORT? config key prot is not a setting; did you mean port?')
  })

  it('accepts every group left out or given as undefined, and the keys of a topic rule are checked by the rule reader', () => {
    expect(resolveConfig({ nats: undefined, hubs: {}, topics: { authorizer: undefined } }, {}).port).toBe(5000)
    expectInvalid({ topics: { rules: [{ pattern: 'a', watch: 'anyone', publish: 'anyone', whatch: 'x' } as never] } }, {}, 'topics.rules (IM_TOPIC_RULES) rule 1 has an unknown key "whatch"; a rule has pattern, watch and publish')
  })
})

describe('closestName', () => {
  it('counts a swap of neighbours as one edit', () => {
    expect(editDistance('im_prot', 'im_port')).toBe(1)
    expect(editDistance('abc', 'abc')).toBe(0)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('kitten', 'sitting')).toBe(3)
  })

  it('suggests nothing when no name is close', () => {
    const candidates = [{ text: 'IM_PORT', suggestion: 'IM_PORT' }]
    expect(closestName('IM_DATABASE_URL', candidates)).toBeUndefined()
    expect(closestName('IM_PORTS', candidates)).toBe('IM_PORT')
  })
})
