/**
 * A minimal structured logger. Every line passes through `redact`, the one place where access
 * tokens, connection tokens and authorization headers are removed: nothing we log can carry them.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export type LogFields = Record<string, unknown>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

const SECRET_QUERY = /([?&](?:access_token|id|token|api_key)=)[^&\s"']*/gi
const BEARER = /(bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi
const SECRET_FIELD = /^(?:authorization|access_?token|token|connectiontoken|secret|password|pass|api_?key|jwt)$/i

/** Removes secrets from a log text: token-bearing query values and bearer credentials. */
export function redact(text: string): string {
  return text.replace(SECRET_QUERY, '$1[redacted]').replace(BEARER, '$1[redacted]')
}

function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {}
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_FIELD.test(key)) out[key] = '[redacted]'
    else if (typeof value === 'string') out[key] = redact(value)
    else if (value instanceof Error) out[key] = redact(value.message)
    else out[key] = value
  }
  return out
}

export interface ConsoleLoggerOptions {
  readonly level?: LogLevel
  /** Where lines go; default process.stderr. */
  readonly write?: (line: string) => void
}

/** Logs one line per event: `level message key=value ...`, secrets redacted. */
export function createConsoleLogger(options: ConsoleLoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'))
  const log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    if (LEVELS[level] < threshold) return
    let line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}`
    if (fields) {
      for (const [key, value] of Object.entries(redactFields(fields))) {
        line += ` ${key}=${typeof value === 'string' ? JSON.stringify(value) : safeStringify(value)}`
      }
    }
    // The whole line once more: secrets nested in objects are caught here.
    write(redact(line))
  }
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
  }
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (key, v: unknown) => (key !== '' && SECRET_FIELD.test(key) ? '[redacted]' : v)) ?? String(value)
  } catch {
    return String(value)
  }
}

/** A logger that drops everything: the default in tests. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} }

export interface RateLimitOptions {
  /** Lines of one message passed per interval (default 10). */
  readonly linesPerMessage?: number
  /** Length of an interval in ms (default 10 000). */
  readonly intervalMs?: number
  /** Called for each line held back (to count them in metrics). */
  readonly onSuppressed?: () => void
}

export type RateLimitedLogger = Logger & {
  /** Writes the summaries of the current interval now (at shutdown). */
  flush(): void
}

/** Distinct messages tracked per interval; others share one budget, so varied messages cost no memory. */
const MAX_TRACKED_MESSAGES = 1000
const OTHER_MESSAGES = '\u0000other'

interface MessageWindow {
  readonly level: Exclude<LogLevel, 'silent'>
  readonly message: string
  passed: number
  suppressed: number
}

/**
 * Passes the first lines of each message (level and text; the fields may differ) per interval and
 * holds back the rest, then writes one `suppressed K similar lines: <message>` line when the
 * interval ends. A flood of one refusal costs a few lines instead of one line per request.
 */
export function rateLimitLogger(inner: Logger, options: RateLimitOptions = {}): RateLimitedLogger {
  const limit = options.linesPerMessage ?? 10
  const intervalMs = options.intervalMs ?? 10_000
  let windows = new Map<string, MessageWindow>()
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    const ended = windows
    windows = new Map()
    for (const w of ended.values()) {
      if (w.suppressed === 0) continue
      inner[w.level](`suppressed ${w.suppressed} similar lines in ${intervalMs} ms: ${w.message}`, { suppressed: w.suppressed })
    }
  }
  const log = (level: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields): void => {
    let key = `${level} ${message}`
    if (!windows.has(key) && windows.size >= MAX_TRACKED_MESSAGES) key = OTHER_MESSAGES
    let window = windows.get(key)
    if (window === undefined) {
      window = { level, message: key === OTHER_MESSAGES ? 'lines of other messages' : message, passed: 0, suppressed: 0 }
      windows.set(key, window)
    }
    // One timer per interval, not per line; it does not keep the process alive.
    timer ??= setTimeout(flush, intervalMs).unref()
    if (window.passed < limit) {
      window.passed++
      inner[level](message, fields)
    } else {
      window.suppressed++
      options.onSuppressed?.()
    }
  }
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    flush,
  }
}
