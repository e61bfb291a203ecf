/**
 * Who may use `POST /api/publish`, and to which subjects. The endpoint speaks for services, so:
 * - a browser may not call it: a request carrying `Origin` is refused unless the origin is on the
 *   explicit IM_CORS_ORIGINS list (a cross-site form post sends `Origin` and no preflight);
 * - without an API key only a listener that other machines cannot reach is open, and then only to
 *   loopback callers not relayed by a proxy (a proxy on the same host makes the internet
 *   "loopback"); on any other listener every publish needs `X-Api-Key`;
 * - it publishes only the subjects services use to reach this node's clients (`HubSubjects.service`
 *   and the hubs' own `@Subscribe` subjects under `im.<hub>.`), never IMService's own subjects
 *   (client envelopes, node-to-node traffic: `HubSubjects.own`) nor other applications' subjects.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { subjectMatches } from '../bus/subjects.js'
import { isLoopback } from './http-util.js'

export interface PublishGuardOptions {
  /** IM_API_KEY; undefined when none is configured. */
  readonly apiKey: string | undefined
  /** Where the listener serving the endpoint is bound, and whether only this machine can reach it. */
  readonly listener: { readonly host: string; readonly loopbackOnly: boolean }
  /** Subject patterns the endpoint publishes to: what services publish for the hubs this node serves. */
  readonly subjects: readonly string[]
  /** Patterns it never publishes to, even where `subjects` would match: IMService's own subjects. */
  readonly own: readonly string[]
  /** True for an origin on the explicit allow-list. */
  readonly isListedOrigin: (origin: string) => boolean
}

/** Headers a reverse proxy adds; their presence means the loopback peer is not the caller. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'] as const

export const API_KEY_HEADER = 'X-Api-Key'

export class PublishGuard {
  private readonly keyDigest: Buffer | undefined

  constructor(private readonly options: PublishGuardOptions) {
    this.keyDigest = options.apiKey === undefined ? undefined : digest(options.apiKey)
  }

  /** True when a caller on this listener needs an API key, whoever it is. */
  get keyRequired(): boolean {
    return !this.options.listener.loopbackOnly
  }

  /** Why this caller may not publish (the 403 text), or undefined when it may. */
  refuseCaller(req: IncomingMessage): string | undefined {
    const origin = req.headers.origin
    if (origin !== undefined && !this.options.isListedOrigin(origin)) {
      return `Publishing from a browser is refused: the origin '${origin.slice(0, 200)}' is not in IM_CORS_ORIGINS (corsOrigins in im.config.ts).`
    }
    const given = req.headers['x-api-key']
    if (given !== undefined) return this.checkKey(given)
    if (!this.keyRequired && isLoopback(req)) {
      const proxied = PROXY_HEADERS.find((name) => req.headers[name] !== undefined)
      if (proxied === undefined) return undefined
      return this.keyNeeded(`this request came through a proxy (it carries ${proxied})`)
    }
    return this.keyNeeded(
      this.keyRequired
        ? `this listener is bound to ${this.options.listener.host}, which other machines can reach`
        : 'the caller is not on this machine',
    )
  }

  /** Why the endpoint does not publish to `subject` (the 403 text), or undefined when it does. */
  refuseSubject(subject: string): string | undefined {
    if (this.options.own.some((pattern) => subjectMatches(pattern, subject))) {
      return `Subject '${subject}' is one of IMService's own (client envelopes, node-to-node traffic, client results, authorizer requests, lifecycle events): the publish endpoint never publishes it.`
    }
    if (this.options.subjects.some((pattern) => subjectMatches(pattern, subject))) return undefined
    return (
      `Subject '${subject}' is not one the publish endpoint serves: it takes ${this.options.subjects.join(', ')} ` +
      '(what services publish to reach clients); publish other subjects to NATS.'
    )
  }

  private keyNeeded(why: string): string {
    return this.options.apiKey === undefined
      ? `Publishing over HTTP needs an API key: ${why}, and no IM_API_KEY is set. Set IM_API_KEY and send it in ${API_KEY_HEADER}, or publish on the internal listener (IM_INTERNAL_PORT, loopback only).`
      : `Publishing over HTTP needs the ${API_KEY_HEADER} header: ${why}.`
  }

  private checkKey(given: string | string[]): string | undefined {
    if (this.keyDigest === undefined) return `The ${API_KEY_HEADER} header was sent, but no IM_API_KEY is set on this node.`
    // Digests have one length, so the comparison takes the same time whatever the key's length.
    if (typeof given === 'string' && timingSafeEqual(digest(given), this.keyDigest)) return undefined
    return `The ${API_KEY_HEADER} header does not match IM_API_KEY.`
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}
