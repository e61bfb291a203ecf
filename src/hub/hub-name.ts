/**
 * Hub names and routes, derived the same way by the runtime and by `im generate`. Pure: codegen
 * imports it without loading any hub runtime code.
 */

/** `DefaultHub` -> `default`, `ChatRoomHub` -> `chat-room`. */
export function defaultHubName(className: string): string {
  const base = className.endsWith('Hub') && className !== 'Hub' ? className.slice(0, -3) : className
  return base.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase()
}

/** The route of a hub: its own path, or `<pathPrefix>/<name>`; one leading slash, no trailing one. */
export function hubPath(name: string, path: string | undefined, pathPrefix: string): string {
  const raw = path ?? `${pathPrefix}/${name}`
  const withSlash = raw.startsWith('/') ? raw : `/${raw}`
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash
}
