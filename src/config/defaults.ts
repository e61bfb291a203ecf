/** Defaults that are computed or shared beyond the settings table. */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'

export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222'

/** A readable id unique per process: the host's first name label, cleaned, plus 4 random hex digits. */
export function defaultNodeId(host: string = hostname()): string {
  const label = (host.split('.')[0] ?? '').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 16) || 'node'
  return `${label}-${randomBytes(2).toString('hex')}`
}
