/**
 * The file a call came from, read from V8's structured stack trace. `@Hub()` records it so that
 * start-up can read the hub's parameter types from its source (types do not exist at run time,
 * and hubs reach `startServer` as classes, from any folder).
 */
import { fileURLToPath } from 'node:url'

/** The file of the code that called `fn`, as an absolute path, or undefined when V8 does not say. */
export function callerFile(fn: Function): string | undefined {
  const original = Error.prepareStackTrace
  const limit = Error.stackTraceLimit
  const holder: { stack?: unknown } = {}
  try {
    Error.prepareStackTrace = (_error, frames) => frames
    // An application may have turned stack traces off; one frame is all this needs.
    Error.stackTraceLimit = Math.max(1, limit)
    Error.captureStackTrace(holder, fn)
    const frames = holder.stack as NodeJS.CallSite[] | undefined
    const name = frames?.[0]?.getFileName() ?? undefined
    if (name === undefined) return undefined
    return name.startsWith('file:') ? fileURLToPath(name) : name
  } catch {
    return undefined
  } finally {
    Error.prepareStackTrace = original
    Error.stackTraceLimit = limit
  }
}
