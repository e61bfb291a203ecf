/**
 * A NATS that stays unreachable is reported again and again, with the time of the next attempt,
 * not once and then never: before the first connect and after a lost connection. The interval is
 * shortened through the bus's constructor option; a real nats-server is stopped and started.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createNatsBus } from '../../src/bus/nats-bus.js'
import type { NatsBus } from '../../src/bus/nats-bus.js'
import { ImErrorCode } from '../../src/errors.js'
import type { LogFields, Logger } from '../../src/logger.js'
import { freePort, startNatsServer } from '../support/nats-server.js'

const WAIT = { timeout: 10_000, interval: 20 } as const
const REPORT_MS = 150

interface Line {
  readonly level: string
  readonly message: string
  readonly fields: LogFields
  readonly at: number
}

function recordingLogger(): { logger: Logger; lines: Line[]; reports: () => Line[] } {
  const lines: Line[] = []
  const log = (level: string) => (message: string, fields: LogFields = {}) => void lines.push({ level, message, fields, at: Date.now() })
  const logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') }
  return { logger, lines, reports: () => lines.filter((line) => line.message.startsWith('NATS still not reachable')) }
}

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined)
})

async function bus(options: { servers: string; logger: Logger; reconnectWaitMs?: number }): Promise<NatsBus> {
  const created = await createNatsBus({ reconnectWaitMs: 100, ...options, retryForever: true, outageReportIntervalMs: REPORT_MS })
  cleanups.push(() => created.close())
  return created
}

/** Each report says how long NATS has been away, when the next attempt is due, and names the servers. */
function expectWellFormed(report: Line, servers: string): void {
  expect(report.level).toBe('warn')
  expect(report.message).toMatch(/^NATS still not reachable after \d+ s; (next attempt in \d+\.\d s|an attempt is under way)$/)
  expect(report.fields).toMatchObject({ servers, attempts: expect.any(Number) })
  if (report.fields.nextAttemptAt !== undefined) expect(Date.parse(String(report.fields.nextAttemptAt))).toBeGreaterThan(report.at - 10_000)
}

describe('NATS outage report', () => {
  it('repeats while the first connect keeps failing, with the next attempt, and stops once connected', async () => {
    const port = await freePort()
    const servers = `nats://127.0.0.1:${port}`
    const { logger, lines, reports } = recordingLogger()
    const natsBus = await bus({ servers, logger })

    await vi.waitFor(() => expect(reports().length).toBeGreaterThanOrEqual(3), WAIT)
    expect(lines.filter((line) => line.message === 'NATS not reachable; retrying' && line.level === 'warn')).toHaveLength(1)
    for (const report of reports()) expectWellFormed(report, servers)
    expect(reports().some((report) => /next attempt in/.test(report.message) && report.fields.lastError !== undefined)).toBe(true)
    const [first, second, third] = reports()
    // One report per interval, not one per attempt (attempts start every 250 ms here).
    expect(third!.at - first!.at).toBeGreaterThanOrEqual(REPORT_MS)
    expect(Number(third!.fields.attempts)).toBeGreaterThanOrEqual(Number(second!.fields.attempts))

    const nats = await startNatsServer({ port })
    cleanups.push(() => nats.stop())
    await vi.waitFor(() => expect(natsBus.status().state).toBe('connected'), WAIT)
    const seen = reports().length
    // Bounded: four intervals would bring four more reports if they had not stopped.
    await new Promise((resolve) => setTimeout(resolve, 4 * REPORT_MS))
    expect(reports().length).toBe(seen)
  })

  it('repeats while a lost connection stays lost, and stops once NATS is back', async () => {
    const nats = await startNatsServer()
    cleanups.push(() => nats.stop())
    const { logger, reports } = recordingLogger()
    // Reports come more often than attempts, so most of them fall in a wait and name the next attempt.
    const natsBus = await bus({ servers: nats.url, logger, reconnectWaitMs: 1000 })
    await vi.waitFor(() => expect(natsBus.status().state).toBe('connected'), WAIT)
    expect(reports()).toEqual([])

    await nats.kill('SIGKILL')
    await vi.waitFor(() => expect(reports().length).toBeGreaterThanOrEqual(3), WAIT)
    for (const report of reports()) expectWellFormed(report, nats.url)
    expect(reports().some((report) => /next attempt in \d+\.\d s$/.test(report.message))).toBe(true)

    await nats.restart()
    await vi.waitFor(() => expect(natsBus.status().state).toBe('connected'), WAIT)
    const seen = reports().length
    await new Promise((resolve) => setTimeout(resolve, 4 * REPORT_MS))
    expect(reports().length).toBe(seen)
  })

  it('requires TLS for tls:// instead of speaking in clear to a server without it', async () => {
    const nats = await startNatsServer()
    cleanups.push(() => nats.stop())
    const error = await createNatsBus({ servers: nats.url.replace('nats://', 'tls://'), retryForever: false }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: ImErrorCode.BusUnavailable, message: expect.stringContaining("server does not support 'tls'") })
  })
})
