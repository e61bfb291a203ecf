/** Identifier spelling shared by the emitters. */

const WORDS = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g

function words(text: string): string[] {
  return text.match(WORDS) ?? []
}

/** `send.to-all` -> `SendToAll`. */
export function pascalCase(text: string): string {
  return words(text)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('')
}

/** `SendToAll` -> `sendToAll`. */
export function camelCase(text: string): string {
  const pascal = pascalCase(text)
  return pascal.length === 0 ? pascal : pascal[0]!.toLowerCase() + pascal.slice(1)
}

/** `sendToAll` -> `SEND_TO_ALL`. */
export function constantCase(text: string): string {
  return words(text)
    .map((w) => w.toUpperCase())
    .join('_')
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** A property key as TypeScript needs it: bare when it is an identifier, else quoted. */
export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : tsString(name)
}

export function isIdentifier(name: string): boolean {
  return IDENTIFIER.test(name)
}

/** Single-quoted TypeScript string literal. */
export function tsString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r')}'`
}

/** A JSDoc block for `doc`, indented, or nothing. */
export function jsDoc(doc: string | undefined, indent = ''): string[] {
  if (!doc) return []
  const lines = doc.replace(/\*\//g, '*\\/').split('\n')
  if (lines.length === 1) return [`${indent}/** ${lines[0]} */`]
  return [`${indent}/**`, ...lines.map((l) => (l.length > 0 ? `${indent} * ${l}` : `${indent} *`)), `${indent} */`]
}
