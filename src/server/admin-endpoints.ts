/**
 * The node's own HTTP endpoints: the health probes (`GET /healthz/live`, `GET /healthz/ready` and
 * the older `GET /healthz`), `GET /metrics`, and `POST /api/publish`, the HTTP publish API for
 * callers that cannot speak NATS (what Azure SignalR and Centrifugo users know). Who may publish
 * what is PublishGuard's job. With an internal listener (IM_INTERNAL_PORT) the public one keeps the
 * health probes only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Bus } from '../bus/bus.js'
import { validateTopic } from '../bus/subjects.js'
import { isImError } from '../errors.js'
import type { Metrics } from '../metrics.js'
import { readBody, sendJson, sendText } from './http-util.js'
import type { PublishGuard } from './publish-guard.js'
import { readiness } from './readiness.js'

export interface AdminEndpointsOptions {
  readonly bus: Bus
  readonly metrics: Metrics
  readonly nodeId: string
  readonly guard: PublishGuard
  /** True on the public listener when an internal one serves `/metrics` and `/api/publish`. */
  readonly operatorPathsElsewhere?: boolean
  readonly hubs: () => ReadonlyArray<{ readonly name: string; readonly path: string; readonly connections: number }>
  /** Largest accepted publish body. */
  readonly maxServicePayloadSize: number
  /** Current values to show on /metrics beside the counters (e.g. pending spreads). */
  readonly gauges?: () => Record<string, number>
  /** True once a graceful stop has begun: the node is then never ready. */
  readonly draining?: () => boolean
}

export const ADMIN_PATHS = { health: '/healthz', live: '/healthz/live', ready: '/healthz/ready', metrics: '/metrics', publish: '/api/publish' } as const

export class AdminEndpoints {
  constructor(private readonly options: AdminEndpointsOptions) {}

  /** Returns false when the path is not one of ours. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    switch (url.pathname) {
      case ADMIN_PATHS.health:
        this.health(res)
        return true
      case ADMIN_PATHS.live:
        // The process answers: that is all liveness says. A node without NATS or in its drain is
        // alive; restarting it would only cut its clients off.
        sendJson(res, 200, { status: 'live', node: this.options.nodeId })
        return true
      case ADMIN_PATHS.ready:
        this.ready(res)
        return true
      case ADMIN_PATHS.metrics:
      case ADMIN_PATHS.publish:
        if (this.options.operatorPathsElsewhere) {
          sendText(res, 404, `Not found: ${url.pathname} is served on the internal listener (IM_INTERNAL_PORT).`)
        } else if (url.pathname === ADMIN_PATHS.metrics) {
          this.prometheus(res)
        } else {
          void this.publish(req, res)
        }
        return true
      default:
        return false
    }
  }

  private ready(res: ServerResponse): void {
    const { ready, reasons, notes } = this.readiness()
    // The server (credential-free) tells an operator which NATS this node uses, ready or not.
    const server = this.options.bus.status().server
    const where = { ...(server !== undefined ? { server } : {}), ...(notes ? { notes } : {}) }
    sendJson(res, ready ? 200 : 503, ready ? { status: 'ready', node: this.options.nodeId, ...where } : { status: 'not ready', node: this.options.nodeId, ...where, reasons })
  }

  private readiness(): ReturnType<typeof readiness> {
    return readiness({ bus: this.options.bus.status(), draining: this.options.draining?.() ?? false })
  }

  /** Kept for balancers and scripts written against it: 200 while the process serves, with the details. */
  private health(res: ServerResponse): void {
    const hubs = this.options.hubs()
    const { ready, reasons } = this.readiness()
    sendJson(res, 200, {
      status: 'ok',
      node: this.options.nodeId,
      ready,
      ...(ready ? {} : { reasons }),
      bus: this.options.bus.status(),
      connections: hubs.reduce((sum, hub) => sum + hub.connections, 0),
      hubs,
    })
  }

  private prometheus(res: ServerResponse): void {
    const lines: string[] = []
    for (const hub of this.options.hubs()) lines.push(`im_connections{hub="${hub.name}"} ${hub.connections}`)
    const bus = this.options.bus.status()
    lines.push(`im_bus_connected ${bus.state === 'connected' ? 1 : 0}`)
    // An info metric: the value is always 1, the label names the NATS server in use (or being tried).
    if (bus.server !== undefined) lines.push(`im_bus_server_info{server="${labelValue(bus.server)}"} 1`)
    for (const [name, value] of Object.entries(this.options.metrics.snapshot())) lines.push(`${counterName(name)} ${value}`)
    for (const [name, value] of Object.entries(this.options.gauges?.() ?? {})) lines.push(`im_${name} ${value}`)
    sendText(res, 200, lines.join('\n') + '\n', { 'Content-Type': 'text/plain; version=0.0.4' })
  }

  private async publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return sendText(res, 405, 'Use POST.', { Allow: 'POST' })
    const refused = this.options.guard.refuseCaller(req)
    if (refused) {
      // The body is never kept: Node discards what a refused caller still sends.
      this.options.metrics.inc('publish_refused')
      return sendText(res, 403, refused)
    }
    const body = await readBody(req, this.options.maxServicePayloadSize)
    if (body === undefined) return sendText(res, 413, `The body is larger than ${this.options.maxServicePayloadSize} bytes.`)
    let request: { subject?: unknown; payload?: unknown }
    try {
      request = JSON.parse(body.toString('utf8'))
    } catch {
      return sendText(res, 400, 'The body must be JSON: {"subject": "...", "payload": {...}}.')
    }
    const subject = request?.subject
    const problem = typeof subject === 'string' ? validateTopic(subject) : '"subject" must be a string'
    if (problem) return sendText(res, 400, `Invalid subject: ${problem}.`)
    const outside = this.options.guard.refuseSubject(subject as string)
    if (outside) {
      this.options.metrics.inc('publish_refused')
      return sendText(res, 403, outside)
    }
    if (request.payload === undefined) return sendText(res, 400, '"payload" is missing.')
    let data: Buffer
    try {
      data = Buffer.from(JSON.stringify(request.payload))
    } catch {
      // JSON.parse accepted it, but it is nested too deeply to write again.
      return sendText(res, 400, '"payload" is nested too deeply.')
    }
    try {
      await this.options.bus.publish(subject as string, data)
      sendJson(res, 202, { subject })
    } catch (error) {
      sendText(res, 503, isImError(error) ? error.message : 'publish failed')
    }
  }
}

/** `bus_payloads_invalid{subject="x"}` -> `im_bus_payloads_invalid_total{subject="x"}`: labels follow the name. */
function counterName(name: string): string {
  const brace = name.indexOf('{')
  return brace < 0 ? `im_${name}_total` : `im_${name.slice(0, brace)}_total${name.slice(brace)}`
}

/** Escapes a Prometheus label value (text exposition format: backslash, double quote, newline). */
function labelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}
