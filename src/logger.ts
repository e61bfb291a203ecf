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
