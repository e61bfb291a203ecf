/**
 * JSON text of hub values in the forms ASP.NET Core (System.Text.Json) writes: a Uint8Array (a
 * Node Buffer included) as a base64 string, as it writes byte[]; a Date as ISO 8601, as it writes
 * DateTime and DateTimeOffset (Date.prototype.toJSON already does). An invalid Date has no such
 * form and is refused, as BigInt and cycles are, instead of JSON.stringify's silent null.
 *
 * A replacer function makes JSON.stringify several times slower, so it is used only when a scan
 * finds bytes (or nesting deeper than the scan follows); everything else is one plain call.
 */

export const INVALID_DATE_ERROR = 'An invalid Date has no ISO 8601 form and cannot be sent.'

/** How deep the scan follows objects; past it the replacer takes over (and JSON.stringify finds cycles). */
const SCAN_DEPTH = 64

/** JSON.stringify with .NET's forms; undefined where JSON.stringify gives undefined (undefined, functions). */
export function stringifyWireValue(value: unknown): string | undefined {
  return needsReplacer(value, 0) ? JSON.stringify(value, wireReplacer) : JSON.stringify(value)
}

/** True when `value` holds a Uint8Array or nests past the scan; throws for an invalid Date. */
function needsReplacer(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return false
  if (value instanceof Uint8Array) return true
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError(INVALID_DATE_ERROR)
    return false
  }
  if (depth >= SCAN_DEPTH) return true
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object' && needsReplacer(item, depth + 1)) return true
    return false
  }
  const record = value as Record<string, unknown>
  for (const key in record) {
    const item = record[key]
    if (typeof item === 'object' && needsReplacer(item, depth + 1)) return true
  }
  return false
}

/**
 * Sees the holder's own value, not the toJSON result JSON.stringify passes in: a Buffer's toJSON
 * would give `{"type":"Buffer","data":[...]}` and an invalid Date's gives null.
 */
function wireReplacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key]
  if (original instanceof Uint8Array) return toBase64(original)
  if (original instanceof Date && Number.isNaN(original.getTime())) throw new TypeError(INVALID_DATE_ERROR)
  return value
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const CODES = Uint8Array.from(ALPHABET, (c) => c.charCodeAt(0))
const PAD = 0x3d
/** The output is ASCII, which every single-byte decoder reads alike. */
const ASCII = new TextDecoder('latin1')

/** Standard base64 with padding (RFC 4648 §4), what Convert.ToBase64String and System.Text.Json write. */
export function toBase64(bytes: Uint8Array): string {
  const out = new Uint8Array(Math.ceil(bytes.length / 3) * 4)
  let o = 0
  const whole = bytes.length - (bytes.length % 3)
  for (let i = 0; i < whole; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!
    out[o++] = CODES[n >>> 18]!
    out[o++] = CODES[(n >>> 12) & 63]!
    out[o++] = CODES[(n >>> 6) & 63]!
    out[o++] = CODES[n & 63]!
  }
  if (whole < bytes.length) {
    const n = (bytes[whole]! << 16) | ((bytes[whole + 1] ?? 0) << 8)
    out[o++] = CODES[n >>> 18]!
    out[o++] = CODES[(n >>> 12) & 63]!
    out[o++] = whole + 1 < bytes.length ? CODES[(n >>> 6) & 63]! : PAD
    out[o++] = PAD
  }
  return ASCII.decode(out)
}
