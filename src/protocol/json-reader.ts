/**
 * Turns one JSON frame (text or UTF-8 bytes) into a plain object, or into the reason it is not one.
 * Shared by the JSON hub protocol and the handshake, which both read one JSON object per frame.
 * Texts follow the .NET readers (SystemTextJsonExtensions.cs, JsonHubProtocol.cs in
 * src/SignalR/common): a reader failure is reported as "Error reading JSON.".
 */
export type JsonObject = Record<string, unknown>

export type JsonObjectResult =
  | { readonly ok: true; readonly value: JsonObject }
  | { readonly ok: false; readonly error: string }

export const JSON_READ_ERROR = 'Error reading JSON.'

/** System.Text.Json's default JsonReaderOptions.MaxDepth, which the .NET server parses with. */
const MAX_DEPTH = 64

// fatal: invalid UTF-8 is a protocol error, as it is for Utf8JsonReader, not silently U+FFFD.
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Decodes UTF-8, or gives undefined for bytes that are not UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes)
  } catch {
    return undefined
  }
}

export function readJsonObject(payload: string | Uint8Array): JsonObjectResult {
  const text = typeof payload === 'string' ? payload : decodeUtf8(payload)
  if (text === undefined) return { ok: false, error: JSON_READ_ERROR }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, error: JSON_READ_ERROR }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: `Unexpected JSON Token Type '${tokenName(value)}'. Expected a JSON Object.` }
  }
  // Nesting deeper than .NET reads is refused here too, so hub code never walks such a value.
  if (exceedsDepth(text)) return { ok: false, error: JSON_READ_ERROR }
  return { ok: true, value: value as JsonObject }
}

/** The System.Text.Json token name of a parsed top-level value that is not an object. */
function tokenName(value: unknown): string {
  if (Array.isArray(value)) return 'Array'
  switch (typeof value) {
    case 'string':
      return 'String'
    case 'number':
      return 'Number'
    case 'boolean':
      return value ? 'True' : 'False'
    default:
      return 'Null'
  }
}

/** Scans valid JSON text for container nesting beyond MAX_DEPTH, skipping string contents. */
function exceedsDepth(text: string): boolean {
  if (text.length <= MAX_DEPTH * 2) return false
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

/** Whether `obj` has `key` as its own property (JSON.parse output may carry any key name). */
export function has(obj: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(obj, key)
}
