/**
 * The few functions a generated TypeScript file carries to give Dates and Uint8Arrays their JSON
 * forms, as ASP.NET Core does for DateTimeOffset and byte[]: `fromWire` turns ISO 8601 and base64
 * strings back into Date and Uint8Array on receipt; `toWire` marks bytes so that JSON.stringify
 * writes them as base64. MessagePack carries both natively (timestamp, bin): there the values
 * already arrive typed, `fromWire` leaves them be, and marked bytes are still a Uint8Array to the
 * encoder. Only what a file uses is emitted, so it passes noUnusedLocals.
 */
import type { WireShape, WireShapes } from './wire-shapes.js'
import { printShape } from './wire-shapes.js'
import { propertyKey } from './names.js'

export interface WireUse {
  /** The file turns received values back (fromWire). */
  readonly receive: boolean
  /** The file sends bytes (toWire). */
  readonly send: boolean
}

export function wireRuntime(shapes: WireShapes, use: WireUse): string[] {
  if (!use.receive && !use.send) return []
  const table = shapes.table()
  return [
    '/** Where Dates and Uint8Arrays sit in a value: JSON carries them as ISO 8601 and base64 strings. */',
    "type WireShape = 'date' | 'bytes' | { readonly array: WireShape } | { readonly tuple: readonly (WireShape | 0)[]; readonly rest?: WireShape } | { readonly props: { readonly [name: string]: WireShape }; readonly extra?: WireShape } | { readonly ref: string } | { readonly union: readonly WireShape[] }",
    '',
    'const SHAPES: { readonly [name: string]: WireShape | undefined } = {',
    ...table.map(([name, shape]) => `  ${propertyKey(name)}: ${printShape(shape)},`),
    '}',
    '',
    ...BASE64,
    ...FITS,
    ...(use.receive ? FROM_WIRE : []),
    ...(use.send ? TO_WIRE : []),
  ]
}

/** A shape literal for a generated table, or `undefined`. */
export function shapeText(shape: WireShape | undefined): string {
  return shape === undefined ? 'undefined' : printShape(shape)
}

const BASE64 = [
  "const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'",
  '',
]

const FITS = [
  '/** The shape of a union member whose form `value` has; `sent`: as the caller holds it, else as JSON gives it. */',
  'function member(value: unknown, union: readonly WireShape[], sent: boolean): WireShape | undefined {',
  '  return union.find((shape) => {',
  "    const resolved = typeof shape === 'object' && 'ref' in shape ? SHAPES[shape.ref] : shape",
  "    if (resolved === 'date') return sent ? value instanceof Date : typeof value === 'string'",
  "    if (resolved === 'bytes') return sent ? value instanceof Uint8Array : typeof value === 'string'",
  "    if (resolved === undefined || 'union' in resolved) return false",
  "    return 'props' in resolved ? isRecord(value) : Array.isArray(value)",
  '  })',
  '}',
  '',
  'function isRecord(value: unknown): value is Record<string, unknown> {',
  "  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !(value instanceof Uint8Array)",
  '}',
  '',
  'function own(props: { readonly [name: string]: WireShape }, key: string): WireShape | undefined {',
  '  return Object.hasOwn(props, key) ? props[key] : undefined',
  '}',
  '',
]

const FROM_WIRE = [
  '/** Turns ISO 8601 and base64 strings at the shape\'s places back into Date and Uint8Array, in place. */',
  'function fromWire(value: unknown, shape: WireShape | undefined): unknown {',
  '  if (shape === undefined || value === null || value === undefined) return value',
  "  if (shape === 'date') return typeof value === 'string' ? new Date(value) : value",
  "  if (shape === 'bytes') return typeof value === 'string' ? fromBase64(value) : value",
  "  if ('ref' in shape) return fromWire(value, SHAPES[shape.ref])",
  "  if ('union' in shape) return fromWire(value, member(value, shape.union, false))",
  '  if (Array.isArray(value)) {',
  "    if ('props' in shape) return value",
  "    value.forEach((item: unknown, i) => (value[i] = fromWire(item, 'array' in shape ? shape.array : i < shape.tuple.length ? shape.tuple[i] || undefined : shape.rest)))",
  "  } else if ('props' in shape && isRecord(value)) {",
  '    for (const key of Object.keys(value)) value[key] = fromWire(value[key], own(shape.props, key) ?? shape.extra)',
  '  }',
  '  return value',
  '}',
  '',
  'function fromBase64(text: string): Uint8Array {',
  "  const digits = text.replace(/=+$/, '')",
  '  const bytes = new Uint8Array(Math.floor((digits.length * 3) / 4))',
  '  let bits = 0',
  '  let buffer = 0',
  '  let length = 0',
  '  for (let i = 0; i < digits.length; i++) {',
  '    buffer = ((buffer << 6) | BASE64.indexOf(digits.charAt(i))) & 0xffffff',
  '    bits += 6',
  '    if (bits >= 8) {',
  '      bits -= 8',
  '      bytes[length++] = (buffer >>> bits) & 0xff',
  '    }',
  '  }',
  '  return bytes',
  '}',
  '',
]

const TO_WIRE = [
  '/** Bytes that JSON.stringify writes as base64, as .NET writes byte[]; to MessagePack still a Uint8Array (bin). */',
  'class WireBytes extends Uint8Array {',
  '  toJSON(): string {',
  "    let text = ''",
  '    for (let i = 0; i < this.length; i += 3) {',
  '      const n = (this[i]! << 16) | ((this[i + 1] ?? 0) << 8) | (this[i + 2] ?? 0)',
  "      text += BASE64.charAt(n >>> 18) + BASE64.charAt((n >>> 12) & 63) + (i + 1 < this.length ? BASE64.charAt((n >>> 6) & 63) : '=') + (i + 2 < this.length ? BASE64.charAt(n & 63) : '=')",
  '    }',
  '    return text',
  '  }',
  '}',
  '',
  '/** A copy of `value` with the bytes at the shape\'s places marked for JSON; the caller\'s objects are left as they are. */',
  'function toWire(value: unknown, shape: WireShape | undefined): unknown {',
  "  if (shape === undefined || typeof value !== 'object' || value === null) return value",
  "  if (shape === 'bytes') return value instanceof Uint8Array ? new WireBytes(value.buffer as ArrayBuffer, value.byteOffset, value.byteLength) : value",
  "  if (shape === 'date') return value",
  "  if ('ref' in shape) return toWire(value, SHAPES[shape.ref])",
  "  if ('union' in shape) return toWire(value, member(value, shape.union, true))",
  '  if (Array.isArray(value)) {',
  "    if ('props' in shape) return value",
  "    return value.map((item: unknown, i) => toWire(item, 'array' in shape ? shape.array : i < shape.tuple.length ? shape.tuple[i] || undefined : shape.rest))",
  '  }',
  "  if (!('props' in shape) || !isRecord(value)) return value",
  '  const copy: Record<string, unknown> = {}',
  '  for (const key of Object.keys(value)) copy[key] = toWire(value[key], own(shape.props, key) ?? shape.extra)',
  '  return copy',
  '}',
  '',
]
