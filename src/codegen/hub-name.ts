/**
 * Hub names and routes as the server derives them. The rule is the one in
 * src/hub/hub-descriptor.ts (`defaultHubName`, `normalizePath`), repeated here because that module
 * loads reflect-metadata and codegen must not load hub runtime code; a unit test keeps the two equal.
 */

/** `DefaultHub` -> `default`, `ChatRoomHub` -> `chat-room`. */
export function defaultHubName(className: string): string {
  const base = className.endsWith('Hub') && className !== 'Hub' ? className.slice(0, -3) : className
  return base.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase()
}

export function hubPath(name: string, path: string | undefined, pathPrefix: string): string {
  const raw = path ?? `${pathPrefix}/${name}`
  const withSlash = raw.startsWith('/') ? raw : `/${raw}`
  return withSlash.length > 1 ? withSlash.replace(/\/+$/, '') : withSlash
}
