import { afterEach, describe, expect, it, vi } from 'vitest'
import { createConsoleLogger, rateLimitLogger, redact, silentLogger } from '../../src/logger.js'
import type { LogLevel } from '../../src/logger.js'

function capture(level?: LogLevel) {
  const lines: string[] = []
  const logger = createConsoleLogger({ level, write: (line) => lines.push(line) })
  return { logger, lines }
}

/** The part of a line after the timestamp. */
const body = (line: string): string => line.slice(line.indexOf(' ') + 1)

describe('redact', () => {
  it.each([
    ['/signalr-hubs/default?id=abc123&access_token=eyJ.x.y', '/signalr-hubs/default?id=[redacted]&access_token=[redacted]'],
    ['GET /hub?access_token=eyJ.x.y HTTP/1.1', 'GET /hub?access_token=[redacted] HTTP/1.1'],
    ['/hub?ACCESS_TOKEN=abc', '/hub?ACCESS_TOKEN=[redacted]'],
    ['/hub?token=abc&x=1', '/hub?token=[redacted]&x=1'],
    ['/api?api_key=k1', '/api?api_key=[redacted]'],
    ['url "/hub?id=abc" failed', 'url "/hub?id=[redacted]" failed'],
    ['Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig-_~+/=', 'Authorization: Bearer [redacted]'],
    ['authorization: bearer abc.def', 'authorization: bearer [redacted]'],
    ['sent BEARER   abc to the server', 'sent BEARER   [redacted] to the server'],
  ])('redacts %s', (text, expected) => {
    expect(redact(text)).toBe(expected)
  })

  it.each(['/hub?userid=alice&orderid=7', '/hub?negotiateVersion=1', 'plain text with id = 5'])(
    'leaves %s alone',
    (text) => {
      expect(redact(text)).toBe(text)
    },
  )
})

describe('createConsoleLogger', () => {
  it('redacts secrets inside object fields', () => {
    const { logger, lines } = capture()
    logger.info('m', { request: { url: '/hub?access_token=abc', headers: { authorization: 'Bearer xyz' } } })
    expect(lines[0]).not.toContain('abc')
    expect(lines[0]).not.toContain('xyz')
  })

  it('writes one line: ISO time, padded level, message and fields', () => {
    const { logger, lines } = capture()
    logger.info('connected', { connectionId: 'c1', count: 2, ok: true })
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /)
    expect(body(lines[0]!)).toBe('info  connected connectionId="c1" count=2 ok=true')
  })

  it.each(['authorization', 'Authorization', 'token', 'access_token', 'accessToken', 'connectionToken', 'secret', 'password', 'apiKey', 'api_key', 'jwt'])(
    'redacts the whole value of a field named %s',
    (key) => {
      const { logger, lines } = capture()
      logger.warn('m', { [key]: 'Bearer abc', other: 'kept' })
      expect(body(lines[0]!)).toBe(`warn  m ${key}="[redacted]" other="kept"`)
    },
  )

  it('redacts tokens in the message, in text fields and in error messages', () => {
    const { logger, lines } = capture()
    logger.error('upgrade of /hub?access_token=abc failed', {
      url: '/hub?id=c1&access_token=abc',
      header: 'Bearer abc.def',
      error: new Error('rejected /hub?token=abc'),
    })
    expect(body(lines[0]!)).toBe(
      'error upgrade of /hub?access_token=[redacted] failed url="/hub?id=[redacted]&access_token=[redacted]" header="Bearer [redacted]" error="rejected /hub?token=[redacted]"',
    )
  })

  it.each([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
    ['silent', []],
  ] as const)('at level %s writes %j', (level, written) => {
    const { logger, lines } = capture(level)
    logger.debug('debug')
    logger.info('info')
    logger.warn('warn')
    logger.error('error')
    expect(lines.map((line) => body(line).split(' ')[0])).toEqual(written)
  })

  it('writes info and above by default', () => {
    const { logger, lines } = capture()
    logger.debug('hidden')
    logger.info('shown')
    expect(lines).toHaveLength(1)
  })

  it('writes a field it cannot serialize as text instead of throwing', () => {
    const { logger, lines } = capture()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    logger.info('m', { cyclic, big: 10n })
    expect(body(lines[0]!)).toBe('info  m cyclic=[object Object] big=10')
  })
})

describe('silentLogger', () => {
  it('accepts every level and writes nothing', () => {
    expect(() => {
      silentLogger.debug('x')
      silentLogger.info('x', { a: 1 })
      silentLogger.warn('x')
      silentLogger.error('x')
    }).not.toThrow()
  })
})

describe('rateLimitLogger', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  function limited(linesPerMessage = 3, intervalMs = 1000) {
    const { logger: inner, lines } = capture('debug')
    let suppressed = 0
    const logger = rateLimitLogger(inner, { linesPerMessage, intervalMs, onSuppressed: () => void suppressed++ })
    return { logger, lines, bodies: () => lines.map(body), suppressed: () => suppressed }
  }

  it('passes the first lines of a message, holds back the rest and writes one summary when the interval ends', () => {
    vi.useFakeTimers()
    const { logger, bodies, suppressed } = limited()
    for (let i = 0; i < 2000; i++) logger.info('refused a request with a bad or missing token', { n: i })
    expect(bodies()).toEqual([
      'info  refused a request with a bad or missing token n=0',
      'info  refused a request with a bad or missing token n=1',
      'info  refused a request with a bad or missing token n=2',
    ])
    expect(suppressed()).toBe(1997)
    vi.advanceTimersByTime(1000)
    expect(bodies().slice(3)).toEqual(['info  suppressed 1997 similar lines in 1000 ms: refused a request with a bad or missing token suppressed=1997'])
    // A new interval starts afresh.
    logger.info('refused a request with a bad or missing token', { n: 2000 })
    expect(bodies()).toHaveLength(5)
  })

  it('limits each message (and level) on its own', () => {
    const { logger, bodies } = limited(1)
    logger.info('a')
    logger.info('a')
    logger.warn('a')
    logger.info('b')
    expect(bodies()).toEqual(['info  a', 'warn  a', 'info  b'])
  })

  it('writes no summary for an interval that held nothing back', () => {
    vi.useFakeTimers()
    const { logger, bodies } = limited()
    logger.error('once')
    vi.advanceTimersByTime(5000)
    expect(bodies()).toEqual(['error once'])
  })

  it('flush writes the summaries at once (at shutdown)', () => {
    const { logger, bodies } = limited(1)
    logger.warn('x')
    logger.warn('x')
    logger.flush()
    expect(bodies()).toEqual(['warn  x', 'warn  suppressed 1 similar lines in 1000 ms: x suppressed=1'])
  })

  it('tracks at most 1000 messages; others share one budget', () => {
    const { logger, lines } = limited(1)
    for (let i = 0; i < 5000; i++) logger.info(`message ${i}`)
    expect(lines).toHaveLength(1001)
    logger.flush()
    expect(body(lines.at(-1)!)).toBe('info  suppressed 3999 similar lines in 1000 ms: lines of other messages suppressed=3999')
  })
})
