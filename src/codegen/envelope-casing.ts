/**
 * `hubs.envelopeCasing` in the generated files. Under `pascal` IMService upper-cases the first
 * letter of each top-level property of the InvocationEnvelope and LifecycleEvent it writes
 * (`connectionId` -> `ConnectionId`); the arguments inside and every other document it publishes
 * keep their names. The files that describe that wire rename exactly those properties.
 */
import { ENVELOPE_TYPE, LIFECYCLE_TYPE } from './model.js'
import type { EnvelopeCasing, TypeDeclaration } from './model.js'

/** What an emitter needs to know of `hubs.envelopeCasing`; default `camel`. */
export interface CasingOptions {
  readonly envelopeCasing?: EnvelopeCasing
}

/** The documents whose top-level properties follow the casing. */
export const CASED_TYPES: readonly string[] = [ENVELOPE_TYPE, LIFECYCLE_TYPE]

/** The line a generated file carries (as a comment or description) when the casing is `pascal`. */
export const PASCAL_NOTE = `${ENVELOPE_TYPE} and ${LIFECYCLE_TYPE} in PascalCase, as hubs.envelopeCasing: 'pascal' has IMService write them.`

/** `connectionId` -> `ConnectionId`: how IMService renames a top-level property under `pascal`. */
export function upperFirst(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1)
}

/** A top-level property of a cased document as it travels. */
export function wireName(name: string, casing: EnvelopeCasing | undefined): string {
  return casing === 'pascal' ? upperFirst(name) : name
}

/**
 * `types` with the properties of the cased documents named as they travel. Under `camel` it is
 * `types` itself, so the output stays what it was.
 */
export function wireTypes(types: Readonly<Record<string, TypeDeclaration>>, casing: EnvelopeCasing | undefined): Readonly<Record<string, TypeDeclaration>> {
  if (casing !== 'pascal') return types
  const renamed: Record<string, TypeDeclaration> = { ...types }
  for (const name of CASED_TYPES) {
    const declaration = types[name]
    if (declaration?.kind === 'interface') renamed[name] = { ...declaration, properties: declaration.properties.map((p) => ({ ...p, name: upperFirst(p.name) })) }
  }
  return renamed
}
