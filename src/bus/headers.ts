/**
 * Header rules shared by both buses, so that the embedded bus refuses exactly what NATS refuses:
 * a name is printable ASCII without ':' (as nats.js checks), a value has no CR or LF (a header
 * line break would inject protocol lines into the NATS connection).
 */
export function validateHeaders(headers: Readonly<Record<string, string>>): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (!/^[\u0021-\u0039\u003b-\u007e]+$/.test(name)) {
      return `header name ${JSON.stringify(name)} must be printable ASCII without ':'`
    }
    if (typeof value !== 'string' || /[\r\n]/.test(value)) {
      return `header ${name} must be a string without CR or LF`
    }
  }
  return undefined
}

/** NATS headers as the Bus hands them out: a repeated header keeps its values joined, as HTTP does. */
export function headersToMap(hdrs: Iterable<[string, string[]]> | undefined): ReadonlyMap<string, string> | undefined {
  if (!hdrs) return undefined
  const map = new Map<string, string>()
  for (const [name, values] of hdrs) map.set(name, values.join(', '))
  return map
}
