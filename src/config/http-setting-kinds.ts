/** Kinds of the HTTP-facing settings: the hub route prefix and the allowed browser origins. */
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
