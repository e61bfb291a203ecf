/**
 * Finds the hub classes in the hubs folder: every exported class decorated with @Hub in a
 * `.ts` / `.js` file (tests and declarations excepted). A hub author adds a file, nothing else.
 * A hub that would serve nothing is refused here, naming its file, because the usual cause is a
 * file compiled with standard (TC39) decorators, under which the member decorators never record.
 */
import { readFile, readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ImError, ImErrorCode } from '../errors.js'
import { isHubClass } from '../hub/hub-descriptor.js'
import type { HubClass } from '../hub/hub.js'
import { hubMetadata } from '../hub/metadata.js'

const HUB_FILE = /^(?!.*\.(?:test|spec|d)\.[cm]?[jt]s$).*\.[cm]?[jt]s$/
const MEMBER_DECORATOR = /@(?:HubMethod|HubStream|Forward|Subscribe)\s*\(/

export async function loadHubs(dir: string): Promise<HubClass[]> {
  const folder = resolve(dir)
  let files: string[]
  try {
    files = (await readdir(folder)).filter((f) => HUB_FILE.test(f)).sort()
  } catch (error) {
    throw new ImError(ImErrorCode.ConfigInvalid, `cannot read the hubs folder ${folder}`, { cause: error })
  }
  const hubs: HubClass[] = []
  for (const file of files) {
    const path = join(folder, file)
    const module = (await importHubFile(path)) as Record<string, unknown>
    for (const value of Object.values(module)) {
      if (!isHubClass(value) || hubs.includes(value)) continue
      await checkServesSomething(value, path)
      hubs.push(value)
    }
  }
  return hubs
}

async function importHubFile(path: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(path).href)
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw error
    throw new ImError(ImErrorCode.HubDefinitionInvalid, `${path}: Node cannot load TypeScript by itself; run it with \`im serve\`, which compiles hubs, or register a TypeScript loader such as tsx`, { cause: error })
  }
}

/** A hub with no client method and no subscription is refused, with the likely reason. */
async function checkServesSomething(hubClass: HubClass, path: string): Promise<void> {
  const prototype = hubClass.prototype as object
  if (hubMetadata.getMethods(prototype).length > 0 || hubMetadata.getSubscriptions(prototype).length > 0) return
  const where = `${path}: hub ${hubClass.name}`
  if (compiledAsStandardDecorators(prototype) || MEMBER_DECORATOR.test(await readFile(path, 'utf8').catch(() => ''))) {
    throw new ImError(
      ImErrorCode.HubDefinitionInvalid,
      `${where} has member decorators, but none of them registered: the file was compiled with standard (TC39) decorators. ` +
        'IMService hubs need TypeScript\'s "experimentalDecorators": true and "useDefineForClassFields": false; `im serve` ' +
        'compiles hubs with them, so start the node with `im serve`, or compile the hubs with those options',
    )
  }
  throw new ImError(ImErrorCode.HubDefinitionInvalid, `${where} serves nothing: give it a @HubMethod, @HubStream, @Forward or @Subscribe member`)
}

/**
 * Under standard decorators a method decorator is called with the method itself and a context
 * object instead of the prototype and the name, so what it records lands on the function.
 */
function compiledAsStandardDecorators(prototype: object): boolean {
  return Object.getOwnPropertyNames(prototype).some((key) => {
    const member = Object.getOwnPropertyDescriptor(prototype, key)?.value as unknown
    return typeof member === 'function' && (hubMetadata.getMethods(member).length > 0 || hubMetadata.getSubscriptions(member).length > 0)
  })
}
