/**
 * The NATS server list (`nats.url`, IM_NATS_URL): one or more comma separated entries, each
 * `nats://host[:port]`, `tls://host[:port]` (TLS required, for every entry or none) or, as nats.js
 * and the NATS CLI take it, a bare `host[:port]` meaning `nats://`. Credentials may be written in
 * the URL (`nats://user:pass@host`, `nats://token@host`); they are never shown. Anything else is
 * refused here, at start-up, because nats.js would not: it drops a scheme it does not know
 * (`http://host:4222` connects as `nats://`), reads `nats//host` as host `nats`, and fails `ws://`
 * only when it dials, again and again, long after the node started.
 */
import type { SettingKind } from './setting-kinds.js'
import { hideUrlPassword, invalid, readString, show } from './config-values.js'

const SCHEMES = ['nats:', 'tls:'] as const
const WEBSOCKET_SCHEMES = new Set(['ws:', 'wss:'])
/** `scheme://`: a scheme as RFC 3986 §3.1 spells it. */
const WITH_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//
/** A scheme whose `://` is mangled: `nats//host`, `nats:/host`, `nats:host`. */
const MANGLED_SCHEME = /^(nats|tls|wss?)(:\/?|\/\/?)(?!\/)(.*)$/i
/** host, host:port, [v6] or [v6]:port, with optional user info. */
const BARE = /^(?:[^@/\s]*@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/

export function natsUrls(): SettingKind<string> {
  return {
    values: 'nats://, tls:// or host:port, comma separated',
    read(source) {
      const value = readString(source) as string
      const entries = value.split(',').map((entry) => entry.trim())
      if (entries.some((entry) => entry === '' || /\s/.test(entry))) {
        throw invalid(`${source.label} must be one or more comma separated server URLs, got ${show(hideUrlPassword(value))}`)
      }
      for (const entry of entries) {
        const problem = natsUrlProblem(entry)
        if (problem !== undefined) throw invalid(`${source.label} entry ${show(hideUrlPassword(entry))} ${problem}`)
      }
      const tls = entries.filter((entry) => entry.toLowerCase().startsWith('tls://'))
      // One client has one TLS setting for every server it may move to.
      if (tls.length > 0 && tls.length < entries.length) {
        throw invalid(`${source.label} mixes tls:// with plain servers, got ${show(hideUrlPassword(value))}: write every entry with tls:// or none`)
      }
      return entries.join(',')
    },
  }
}

/** Why `entry` is not a NATS server URL, or undefined when it is one. */
export function natsUrlProblem(entry: string): string | undefined {
  const hasScheme = WITH_SCHEME.test(entry)
  if (!hasScheme && !BARE.test(entry)) {
    const mangled = MANGLED_SCHEME.exec(entry)
    if (mangled) return `is not a URL: its scheme must end in "://" (did you mean ${show(hideUrlPassword(`${mangled[1]!.toLowerCase()}://${mangled[3]}`))}?)`
    return 'is not a server address: write nats://host:4222, tls://host:4222 or host:4222'
  }
  let url: URL
  try {
    url = new URL(hasScheme ? entry : `nats://${entry}`)
  } catch {
    return 'is not a valid URL (a port is 1 to 65535): write nats://host:4222'
  }
  if (WEBSOCKET_SCHEMES.has(url.protocol)) {
    return `uses ${url.protocol}//, which IMService cannot dial: it reaches NATS over TCP, so give the server's client port with nats:// or tls://`
  }
  if (!(SCHEMES as readonly string[]).includes(url.protocol)) return `has the scheme ${url.protocol}//; a NATS server URL starts with nats:// or tls://`
  if (url.hostname === '') return 'names no host: write nats://host:4222'
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') return 'has a path, query or fragment; a NATS server URL is scheme://host:port'
  if (url.port === '0') return 'has port 0; give the port the server listens on'
  return undefined
}
