import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config/load-config.js'
import type { ImConfigInput } from '../../../src/config/config.js'
import { ImErrorCode } from '../../../src/errors.js'

const JWT = { IM_JWT_SECRET: 'a-secret-that-is-long-enough-for-hs256!!' }

function topics(input: ImConfigInput, env: Record<string, string> = {}) {
  return resolveConfig(input, env).topics
}

/** `message`: the exact text, or a matcher for it. */
function expectInvalid(input: ImConfigInput, env: Record<string, string>, message: unknown): void {
  expect(() => resolveConfig(input, env)).toThrow(expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message }))
}

describe('topic rule defaults', () => {
  it('with a JWT key: public.> for anyone, user.{userId}.> for its owner, no other watch; users publish', () => {
    expect(topics({}, JWT)).toEqual({
      source: 'secure-default',
      rules: [
        { pattern: 'public.>', watch: ['anyone'], publish: ['authenticated'] },
        { pattern: 'user.{userId}.>', watch: ['owner'], publish: ['authenticated'] },
        { pattern: '>', watch: ['nobody'], publish: ['authenticated'] },
      ],
      authorizer: { enabled: false, timeoutMs: 1000, cacheTtlMs: 30_000, cacheSize: 10_000 },
    })
  })

  it('with a JWT key and the authorizer on: the catch-all is left to the authorizer', () => {
    expect(topics({ topics: { authorizer: { enabled: true } } }, JWT).rules.map((r) => r.pattern)).toEqual(['public.>', 'user.{userId}.>'])
  })

  it('without JWT: open, everyone being anonymous; with the authorizer on, it decides every topic', () => {
    expect(topics({}, {})).toMatchObject({ source: 'open-default', rules: [{ pattern: '>', watch: ['anyone'], publish: ['anyone'] }] })
    expect(topics({}, { IM_TOPIC_AUTHORIZER: 'true' })).toMatchObject({ source: 'open-default', rules: [] })
  })

  it('configured rules replace the defaults, an empty list included', () => {
    expect(topics({ topics: { rules: [] } }, JWT)).toMatchObject({ source: 'configured', rules: [] })
  })
})

describe('topic rules from im.config.ts and IM_TOPIC_RULES', () => {
  it('normalises each audience to a list and keeps the order', () => {
    const rules = topics({
      topics: {
        rules: [
          { pattern: 'user.{userId}.>', watch: ['owner', { roles: ['support'] }], publish: 'owner' },
          { pattern: 'chat.*', watch: 'authenticated', publish: { roles: ['admin', 'ops'] } },
        ],
      },
    }).rules
    expect(rules).toEqual([
      { pattern: 'user.{userId}.>', watch: ['owner', { roles: ['support'] }], publish: ['owner'] },
      { pattern: 'chat.*', watch: ['authenticated'], publish: [{ roles: ['admin', 'ops'] }] },
    ])
  })

  it('takes IM_TOPIC_RULES as JSON, over the file', () => {
    const env = { IM_TOPIC_RULES: '[{"pattern":"news.>","watch":"anyone","publish":"nobody"}]' }
    expect(topics({ topics: { rules: [{ pattern: '>', watch: 'anyone', publish: 'anyone' }] } }, env).rules).toEqual([
      { pattern: 'news.>', watch: ['anyone'], publish: ['nobody'] },
    ])
  })

  const FILE = 'topics.rules (IM_TOPIC_RULES)'
  const bad: ReadonlyArray<[string, unknown, string]> = [
    ['not a list', { pattern: '>' }, `${FILE} must be a list of rules like { pattern: 'user.{userId}.>', watch: 'owner', publish: 'authenticated' }, got {"pattern":">"}`],
    ['not an object', ['public.>'], `${FILE} rule 1 must be an object like { pattern: 'user.{userId}.>', watch: 'owner', publish: 'authenticated' }, got "public.>"`],
    ['a misspelt key', [{ pattern: 'a', watch: 'anyone', publsh: 'anyone' }], `${FILE} rule 1 has an unknown key "publsh"; a rule has pattern, watch and publish`],
    ['no pattern', [{ watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 needs a pattern (a topic with *, > or {userId}, like 'user.{userId}.>'), got undefined`],
    ['an empty pattern', [{ pattern: '', watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 (""): the pattern is empty`],
    ['an empty token', [{ pattern: 'a..b', watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 ("a..b"): the pattern has an empty token (a leading, trailing or doubled dot)`],
    ['> before the end', [{ pattern: 'a.>.b', watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 ("a.>.b"): '>' must be the last token`],
    ['a wildcard inside a token', [{ pattern: 'a.b*', watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 ("a.b*"): "b*" mixes a wildcard with text; '*' and '>' must be whole tokens`],
    ['a bad character', [{ pattern: 'a.b c', watch: 'anyone', publish: 'anyone' }], `${FILE} rule 1 ("a.b c"): "b c" may contain only letters, digits, '_' and '-' (or be *, > or {userId})`],
    ['{userId} inside a token', [{ pattern: 'user-{userId}.>', watch: 'owner', publish: 'owner' }], `${FILE} rule 1 ("user-{userId}.>"): "user-{userId}" has {userId} inside a token; it must be a whole token, like user.{userId}.>`],
    ['an unknown placeholder', [{ pattern: 'user.{id}.>', watch: 'owner', publish: 'owner' }], `${FILE} rule 1 ("user.{id}.>"): unknown placeholder {id}; the only placeholder is {userId}`],
    ['{userId} twice', [{ pattern: '{userId}.{userId}', watch: 'owner', publish: 'owner' }], `${FILE} rule 1 ("{userId}.{userId}"): {userId} may appear only once`],
    ['an unknown who-value', [{ pattern: 'a', watch: 'admins', publish: 'nobody' }], `${FILE} rule 1 ("a") watch has unknown value "admins"; use 'anyone', 'authenticated', 'owner', 'nobody', 'authorizer', { roles: ['...'] } or a list of them`],
    ['a missing action', [{ pattern: 'a', watch: 'anyone' }], `${FILE} rule 1 ("a") publish is missing: say who may publish ('anyone', 'authenticated', 'owner', 'nobody', 'authorizer', { roles: ['...'] } or a list of them)`],
    ['an empty audience', [{ pattern: 'a', watch: [], publish: 'nobody' }], `${FILE} rule 1 ("a") watch is an empty list: write 'nobody' to allow no one`],
    ['anyone in a list', [{ pattern: 'a', watch: ['anyone', 'owner'], publish: 'nobody' }], `${FILE} rule 1 ("a") watch: 'anyone' cannot be combined with other values`],
    ['empty roles', [{ pattern: 'a', watch: { roles: [] }, publish: 'nobody' }], `${FILE} rule 1 ("a") watch roles must be a non-empty list of role names, got []`],
    ['another object', [{ pattern: 'a', watch: { role: 'admin' }, publish: 'nobody' }], `${FILE} rule 1 ("a") watch has unknown value {"role":"admin"}; an object must be { roles: ['admin', ...] }`],
    ['owner without {userId}', [{ pattern: 'inbox.*', watch: 'owner', publish: 'nobody' }], `${FILE} rule 1 ("inbox.*") watch is 'owner' but the pattern has no {userId} token to name the owner`],
    ['authorizer while it is off', [{ pattern: 'a', watch: 'nobody', publish: 'authorizer' }], `${FILE} rule 1 ("a") publish is 'authorizer' but the authorizer is off: set topics.authorizer.enabled (IM_TOPIC_AUTHORIZER)`],
    [
      'a rule an earlier one hides',
      [
        { pattern: 'user.{userId}.>', watch: 'owner', publish: 'owner' },
        { pattern: 'user.*.inbox', watch: { roles: ['admin'] }, publish: 'nobody' },
      ],
      `${FILE} rule 2 ("user.*.inbox") can never match: rule 1 ("user.{userId}.>") comes first and matches every topic it does`,
    ],
    ['a rule after >', [{ pattern: '>', watch: 'anyone', publish: 'anyone' }, { pattern: 'a', watch: 'nobody', publish: 'nobody' }], `${FILE} rule 2 ("a") can never match: rule 1 (">") comes first and matches every topic it does`],
  ]
  it.each(bad)('refuses %s', (_name, rules, message) => {
    // Bad on purpose: what an untyped im.config.js or a careless edit would give.
    expectInvalid({ topics: { rules: rules as never } }, {}, message)
  })

  it('keeps rules that only look alike: a literal does not hide a wildcard, nor * hide >', () => {
    const rules = [
      { pattern: 'a.b', watch: 'anyone', publish: 'anyone' },
      { pattern: 'a.*', watch: 'anyone', publish: 'anyone' },
      { pattern: 'a.>', watch: 'anyone', publish: 'anyone' },
      { pattern: '*', watch: 'anyone', publish: 'anyone' },
    ] as const
    expect(topics({ topics: { rules } }).rules).toHaveLength(4)
  })

  it('names the variable for bad JSON and bad rules from the environment', () => {
    expectInvalid({}, { IM_TOPIC_RULES: '[{pattern:' }, expect.stringMatching(/^IM_TOPIC_RULES must be a JSON array of rules like \[\{"pattern":"public\.>","watch":"anyone","publish":"authenticated"\}\]: /))
    expectInvalid({}, { IM_TOPIC_RULES: '[{"pattern":"a","watch":"all","publish":"nobody"}]' }, expect.stringMatching(/^IM_TOPIC_RULES rule 1 \("a"\) watch has unknown value "all"/))
  })
})

describe('authorizer settings', () => {
  it('take the file and let IM_* variables override it', () => {
    const config = topics(
      { topics: { authorizer: { enabled: false, timeoutMs: 500 } } },
      { IM_TOPIC_AUTHORIZER: '1', IM_TOPIC_AUTHORIZER_CACHE_TTL_MS: '0', IM_TOPIC_AUTHORIZER_CACHE_SIZE: '50' },
    )
    expect(config.authorizer).toEqual({ enabled: true, timeoutMs: 500, cacheTtlMs: 0, cacheSize: 50 })
  })

  it.each([
    [{ IM_TOPIC_AUTHORIZER: 'yes' }, 'IM_TOPIC_AUTHORIZER must be true, false, 1 or 0, got "yes"'],
    [{ IM_TOPIC_AUTHORIZER_TIMEOUT_MS: '5' }, 'IM_TOPIC_AUTHORIZER_TIMEOUT_MS must be an integer from 10 to 60000, got "5"'],
    [{ IM_TOPIC_AUTHORIZER_CACHE_SIZE: '0' }, 'IM_TOPIC_AUTHORIZER_CACHE_SIZE must be an integer from 1 to 1000000, got "0"'],
    [{ IM_TOPIC_AUTHORIZER_CACHE_TTL_MS: '-1' }, 'IM_TOPIC_AUTHORIZER_CACHE_TTL_MS must be an integer from 0 to 2147483647, got "-1"'],
  ])('refuses %j', (env, message) => {
    expectInvalid({}, env, message)
  })
})
