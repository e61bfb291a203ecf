/**
 * How many arguments a hub method takes, read from the function itself. Types are not available
 * at run time (no emitDecoratorMetadata), but arity is: `fn.length` counts the parameters before
 * the first default or rest parameter, and the source text tells whether a rest parameter exists.
 */
export interface Arity {
  readonly min: number
  /** Infinity when the method has a rest parameter. */
  readonly max: number
}

export function arityOf(fn: Function): Arity {
  const params = splitTopLevel(parameterList(fn.toString()))
  const hasRest = params.length > 0 && params[params.length - 1]!.trimStart().startsWith('...')
  return { min: fn.length, max: hasRest ? Infinity : params.length }
}

/**
 * The text between the first `(` and its matching `)`, skipping brackets inside string literals.
 * (A regular expression literal holding a bracket in a default value is not supported.)
 */
function parameterList(source: string): string {
  const start = source.indexOf('(')
  if (start < 0) return '' // `x => ...` has one parameter, but hub methods are never arrows
  let depth = 0
  let quote: string | undefined
  for (let i = start; i < source.length; i++) {
    const ch = source[i]!
    if (quote) {
      if (ch === '\\') i++
      else if (ch === quote) quote = undefined
    } else if (ch === '"' || ch === "'" || ch === '`') quote = ch
    else if (ch === '(') depth++
    else if (ch === ')' && --depth === 0) return source.slice(start + 1, i)
  }
  return ''
}

/** Splits on commas outside brackets and strings; drops empty entries (a trailing comma). */
function splitTopLevel(list: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quote: string | undefined
  let current = ''
  for (let i = 0; i < list.length; i++) {
    const ch = list[i]!
    if (quote) {
      current += ch
      if (ch === '\\') current += list[++i] ?? ''
      else if (ch === quote) quote = undefined
      continue
    }
    if (ch === '"' || ch === "'" || ch === '`') quote = ch
    else if ('([{'.includes(ch)) depth++
    else if (')]}'.includes(ch)) depth--
    else if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
      continue
    }
    current += ch
  }
  parts.push(current)
  return parts.filter((p) => p.trim() !== '' && !p.trim().startsWith('/*'))
}
