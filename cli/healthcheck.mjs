#!/usr/bin/env node
// The container's HEALTHCHECK: exits 0 when GET /healthz/live answers 200, 1 otherwise. Plain Node
// with no imports (no tsx start-up every few seconds, no curl in the image). It asks the internal
// listener when there is one, since that listener stays up through a drain, else the public port.
const env = process.env
const internal = env.IM_INTERNAL_PORT !== undefined && env.IM_INTERNAL_PORT !== ''
const port = internal ? env.IM_INTERNAL_PORT : env.IM_PORT || '5000'
const bound = (internal ? env.IM_INTERNAL_HOST : env.IM_HOST) || '127.0.0.1'
// A listener on every interface is reached on loopback.
const host = bound === '0.0.0.0' ? '127.0.0.1' : bound === '::' ? '::1' : bound
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz/live`

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
  if (response.status !== 200) {
    console.error(`${url} answered ${response.status}`)
    process.exit(1)
  }
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? error.message : String(error)}`)
  process.exit(1)
}
