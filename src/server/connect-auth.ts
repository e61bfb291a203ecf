/**
 * Who may open a connection to a hub: the token's principal (RequestAuthenticator), refused with
 * 401 when there is no valid token and the hub needs one, and with 403 when the user lacks every
 * role the hub's `@Authorize({ roles })` names, as ASP.NET Core's endpoint authorization does.
 * Answers on a plain response (negotiate, SSE, long polling) or a socket being upgraded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Principal } from '../auth/principal.js'
import { isImError } from '../errors.js'
import type { HubDescriptor } from '../hub/hub-descriptor.js'
import { holdsAnyRole } from '../hub/roles.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import { refuseUpgrade, sendText } from './http-util.js'
import type { RequestAuthenticator } from './request-auth.js'

export interface ConnectAuthOptions {
  readonly auth: RequestAuthenticator
  readonly descriptor: HubDescriptor
  readonly metrics: Metrics
  readonly logger: Logger
}

/** Resolves the principal, or answers 401 or 403 on `out` and resolves undefined. */
export async function authenticateConnect(options: ConnectAuthOptions, req: IncomingMessage, query: URLSearchParams, out: ServerResponse | Duplex): Promise<Principal | undefined> {
  const { descriptor, metrics, logger } = options
  const rule = descriptor.authorize
  let principal: Principal
  try {
    principal = await options.auth.authenticate(req, query, rule !== undefined)
  } catch (error) {
    if (!isImError(error)) throw error
    metrics.inc('requests_unauthorized')
    logger.info('refused a request with a bad or missing token', { hub: descriptor.name, reason: error.message })
    // The body stays empty so the client reports "Unauthorized: Status code '401'" as for
    // ASP.NET Core; the reason travels in WWW-Authenticate (RFC 6750 section 3).
    const challenge = `Bearer error="invalid_token", error_description="${error.message.replace(/["\\]/g, '')}"`
    if ('writeHead' in out) out.writeHead(401, { 'WWW-Authenticate': challenge }).end()
    else refuseUpgrade(out, 401, '', { 'WWW-Authenticate': challenge })
    return undefined
  }
  if (rule?.roles && rule.roles.length > 0 && !holdsAnyRole(principal.claims, rule.roles)) {
    metrics.inc('requests_forbidden')
    logger.info('refused a user without the roles the hub requires', { hub: descriptor.name, user: principal.userId })
    if ('writeHead' in out) sendText(out, 403, `This hub requires one of the roles ${rule.roles.join(', ')}.`)
    else refuseUpgrade(out, 403, '')
    return undefined
  }
  return principal
}
