/**
 * `im publish <subject> <json>`: publishes as a service would. To NATS when it answers; otherwise
 * through the running node's HTTP publish endpoint (the node is then on its embedded bus).
 */
import { createNatsBus } from '../src/bus/nats-bus.js'
import { isValidTopic } from '../src/index.js'
import { loadConfig } from './load.js'

export async function publish(subject: string, json: string, options: { config: string; url?: string }): Promise<void> {
  if (!isValidTopic(subject)) throw new Error(`"${subject}" is not a valid subject: tokens of [A-Za-z0-9_-] joined by "."`)
  let payload: unknown
  try {
    payload = JSON.parse(json)
  } catch (error) {
    throw new Error(`the payload is not valid JSON: ${(error as Error).message}`)
  }
  const config = await loadConfig(options.config)
  const body = new TextEncoder().encode(JSON.stringify(payload))

  if (!options.url) {
    const bus = await createNatsBus({ servers: config.nats.url, retryForever: false, token: config.nats.token, user: config.nats.user, pass: config.nats.pass }).catch(() => undefined)
    if (bus) {
      try {
        await bus.publish(subject, body)
        process.stdout.write(`published to NATS ${bus.status().server ?? config.nats.url}: ${subject}\n`)
        return
      } finally {
        await bus.close()
      }
    }
    if (config.nats.explicit) throw new Error(`NATS at ${config.nats.url} is not reachable`)
  }

  const base = options.url ?? defaultPublishUrl(config)
  const response = await fetch(new URL('/api/publish', base), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...(config.apiKey ? { 'X-Api-Key': config.apiKey } : {}) },
    body: JSON.stringify({ subject, payload }),
  }).catch((error: unknown) => {
    throw new Error(`no NATS and no IMService node at ${base}: ${(error as Error).cause ?? (error as Error).message}`)
  })
  if (!response.ok) throw new Error(`${base} refused the publish (${response.status}): ${await response.text()}`)
  process.stdout.write(`published through ${base}/api/publish: ${subject}\n`)
}

/** The internal listener when there is one (the public port then has no publish endpoint), else the public port. */
function defaultPublishUrl(config: Awaited<ReturnType<typeof loadConfig>>): string {
  if (config.internalPort === undefined) return `http://127.0.0.1:${config.port}`
  const host = config.internalHost === '0.0.0.0' || config.internalHost === '::' ? '127.0.0.1' : config.internalHost
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.internalPort}`
}
