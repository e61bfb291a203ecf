/**
 * Opening one NATS connection: the server list as configured (`IM_NATS_URL`, comma separated) and
 * one bounded connection attempt. nats.js ignores credentials written into a URL, so they are
 * lifted out into options; what remains is credential-free text we may show in logs and `/healthz`.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { connect, headers as natsHeaders } from '@nats-io/transport-node'
import type { Authenticator, MsgHdrs, NatsConnection } from '@nats-io/transport-node'
import { ImError, ImErrorCode, messageOf } from '../errors.js'
import type { NatsTlsMaterial } from './nats-credentials.js'

export interface NatsServerList {
  /** Server URLs without credentials, as handed to nats.js. */
  readonly urls: readonly string[]
  /** `urls` joined with ',': safe to log and show. */
  readonly display: string
  readonly user?: string
  readonly pass?: string
  readonly token?: string
  /**
   * A `tls://` entry asks for TLS. nats.js drops the scheme and uses TLS only when the server
   * offers it, so we require it: a server without TLS is then refused instead of spoken to in clear.
   */
  readonly tls: boolean
}

const ENTRY = /^(?:([A-Za-z][A-Za-z0-9+.-]*):\/\/)?(?:([^@/]*)@)?(.+)$/

/** Returns undefined when no server is named (an empty or blank list). */
export function parseNatsServers(servers: string): NatsServerList | undefined {
  const urls: string[] = []
  let user: string | undefined
  let pass: string | undefined
  let token: string | undefined
  for (const raw of servers.split(',')) {
    const entry = raw.trim()
    if (entry.length === 0) continue
    const match = ENTRY.exec(entry)
    if (!match) continue
    const [, scheme, userinfo, hostport] = match
    urls.push(`${scheme ?? 'nats'}://${hostport}`)
    // The first credentials win: one client authenticates one way against the whole cluster.
    if (userinfo && user === undefined && token === undefined) {
      const colon = userinfo.indexOf(':')
      if (colon === -1) token = safeDecode(userinfo)
      else {
        user = safeDecode(userinfo.slice(0, colon))
        pass = safeDecode(userinfo.slice(colon + 1))
      }
    }
  }
  if (urls.length === 0) return undefined
  return { urls, display: urls.join(','), user, pass, token, tls: urls.some((url) => url.toLowerCase().startsWith('tls://')) }
}

/** The `host:port` of a URL in the list, as nats.js reports the server it is connected to. */
export function hostPort(url: string): string {
  return url.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '').replace(/\/.*$/, '')
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}

export interface DialOptions {
  readonly name?: string
  /** Bound of one attempt per server (default 2000). */
  readonly connectTimeoutMs?: number
  /** Pause between nats.js reconnect attempts (default 2000). */
  readonly reconnectWaitMs?: number
  readonly token?: string
  readonly user?: string
  readonly pass?: string
  /** nkey or `.creds` authentication, from `readNatsCredentials`. */
  readonly authenticator?: Authenticator
  /** PEM CA / client certificate and key; when given, TLS is required as for a `tls://` URL. */
  readonly tlsMaterial?: NatsTlsMaterial
}

/**
 * One attempt over every listed server. Once connected, nats.js reconnects without limit
 * (its default gives up after 10 attempts). A failed first dial still fails the attempt at once,
 * as nats.js drops a server that never connected (waitOnFirstConnect false): the caller decides
 * whether to try again.
 */
export function dialNats(servers: NatsServerList, options: DialOptions): Promise<NatsConnection> {
  const timeoutMs = options.connectTimeoutMs ?? 2000
  const attempt = connect({
    servers: [...servers.urls],
    name: options.name,
    timeout: timeoutMs,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false,
    reconnectTimeWait: options.reconnectWaitMs ?? 2000,
    // nats.js makes an Error per request up front, to keep the caller's stack for a later failure;
    // every failure we report is our own ImError with its own text, and that stack costs more
    // than the rest of a request (presence writes one at each user's first and last connection).
    noAsyncTraces: true,
    token: options.token ?? servers.token,
    user: options.user ?? servers.user,
    pass: options.pass ?? servers.pass,
    ...(options.authenticator ? { authenticator: options.authenticator } : {}),
    ...(servers.tls || options.tlsMaterial ? { tls: { ...options.tlsMaterial } } : {}),
  })
  // nats.js bounds each handshake; this bounds the whole attempt (name resolution, several servers).
  return withTimeout(attempt, timeoutMs * servers.urls.length + 500).catch((error: unknown) => {
    attempt.then((late) => late.close()).catch(() => undefined)
    throw servers.tls || options.tlsMaterial ? explainTlsTimeout(error, options.tlsMaterial?.cert !== undefined) : error
  })
}

/**
 * Under TLS 1.3 a server that verifies client certificates (`tls { verify: true }`) rejects a
 * missing or untrusted one only after the client's side of the handshake is done; nats.js then
 * reports a bare timeout. Say what that usually means, naming the settings to check.
 */
function explainTlsTimeout(error: unknown, sentCertificate: boolean): unknown {
  if (!(error instanceof Error) || !/timeout|timed out/i.test(error.message)) return error
  const hint = sentCertificate
    ? 'the server may not trust the client certificate (IM_NATS_TLS_CERT, IM_NATS_TLS_KEY): check that its CA signed it'
    : 'the server may require a client certificate: set IM_NATS_TLS_CERT and IM_NATS_TLS_KEY'
  return new ImError(ImErrorCode.BusUnavailable, `${error.message} during TLS; ${hint}`, { cause: error })
}

const BACKOFF_START_MS = 250
const BACKOFF_MAX_MS = 5000

/**
 * Dials until connected, with capped, jittered backoff; never gives up. Resolves undefined once
 * `signal` aborts. `failed` hears of each failed attempt (counted from 1) and the pause before the next.
 */
export async function dialUntilConnected(
  servers: NatsServerList,
  options: DialOptions,
  signal: AbortSignal,
  failed: (attempt: number, error: unknown, waitMs: number) => void,
): Promise<NatsConnection | undefined> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      return await dialNats(servers, options)
    } catch (error) {
      const waitMs = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** Math.min(attempt - 1, 10)) * (0.8 + Math.random() * 0.4)
      failed(attempt, error, waitMs)
      await delay(waitMs, undefined, { signal }).catch(() => undefined)
    }
  }
  return undefined
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ImError(ImErrorCode.BusTimeout, `timed out after ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Our header record as nats.js takes it (none for an empty one), or, for a header nats.js refuses
 * (a bad name or value), the IM_BUS_PUBLISH_FAILED error to answer the publish with: nothing is sent.
 */
export function natsHeadersOf(headers: Readonly<Record<string, string>> | undefined): MsgHdrs | ImError | undefined {
  if (!headers || Object.keys(headers).length === 0) return undefined
  try {
    const hdrs = natsHeaders()
    for (const [name, value] of Object.entries(headers)) hdrs.set(name, value)
    return hdrs
  } catch (error) {
    return new ImError(ImErrorCode.BusPublishFailed, messageOf(error), { cause: error })
  }
}
