/**
 * Finds the hub classes in the hubs folder: every exported class decorated with @Hub in a
 * `.ts` / `.js` file (tests and declarations excepted). A hub author adds a file, nothing else.
 */
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ImError, ImErrorCode } from '../errors.js'
import { isHubClass } from '../hub/hub-descriptor.js'
import type { HubClass } from '../hub/hub.js'

const HUB_FILE = /^(?!.*\.(?:test|spec|d)\.[cm]?[jt]s$).*\.[cm]?[jt]s$/

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
    const module = (await import(pathToFileURL(join(folder, file)).href)) as Record<string, unknown>
    for (const value of Object.values(module)) if (isHubClass(value) && !hubs.includes(value)) hubs.push(value)
  }
  return hubs
}
