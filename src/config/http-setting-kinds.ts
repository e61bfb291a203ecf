/** Kinds of the HTTP-facing settings: the hub route prefix, the allowed browser origins and the transports. */
import type { HubTransport } from './config.js'
import type { SettingKind } from './setting-kinds.js'
import { invalid, readList, readString, show } from './config-values.js'

const PATH_PREFIX = /^(?:\/[A-Za-z0-9._~-]+)*$/

/** `/signalr-hubs`; a trailing `/` is dropped. An empty prefix from the file puts hubs at the root (the environment cannot say "empty"). */
export function pathPrefix(): SettingKind<string> {
  return {
    values: 'a path, or empty',
    read(source) {
      const raw = source.value === '' && !source.fromEnv ? '' : (readString(source) as string)
      const prefix = raw.replace(/\/+$/, '')
      if (!PATH_PREFIX.test(prefix)) throw invalid(`${source.label} must be empty or a path like /signalr-hubs, got ${show(raw)}`)
      return prefix
    },
  }
}

/** Origins like `https://app.example.com`, stored as browsers send them; or `*` alone. */
export function origins(): SettingKind<readonly string[]> {
  return {
    values: 'list of origins, or *',
    read(source) {
      const list = readList(source) as readonly string[]
      // "*" is any origin, without credentials; naming origins beside it would change nothing.
      if (list.includes('*')) {
        if (list.length > 1) throw invalid(`${source.label} must be "*" alone or a list of origins, got ${show(list.join(','))}`)
        return Object.freeze(['*'])
      }
      return Object.freeze(
        list.map((origin) => {
          let url: URL | undefined
          try {
            url = new URL(origin)
          } catch {
            url = undefined
          }
          if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || `${url.origin}/` !== url.href) {
            throw invalid(`${source.label} entries must be origins like https://app.example.com, got ${show(origin)}`)
          }
          // Browsers send Origin in lower case without a trailing slash; store it the same way.
          return url.origin
        }),
      )
    },
  }
}

export const HUB_TRANSPORTS: readonly HubTransport[] = ['WebSockets', 'ServerSentEvents', 'LongPolling']

/** One or more of HUB_TRANSPORTS, named exactly as the SignalR client spells them; kept in the order negotiate lists them. */
export function transports(): SettingKind<readonly HubTransport[]> {
  return {
    values: HUB_TRANSPORTS.join(', '),
    read(source) {
      const names = readList(source) as readonly string[]
      const unknown = names.find((name) => !(HUB_TRANSPORTS as readonly string[]).includes(name))
      if (names.length === 0 || unknown !== undefined) {
        throw invalid(`${source.label} must name one or more of ${HUB_TRANSPORTS.join(', ')}, got ${show(unknown ?? names.join(','))}`)
      }
      return Object.freeze(HUB_TRANSPORTS.filter((name) => names.includes(name)))
    },
  }
}
