import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { Hub } from '../../../src/hub/decorators.js'
import { HubBase } from '../../../src/hub/hub.js'
import { hubMetadata } from '../../../src/hub/metadata.js'

const THIS_FILE = fileURLToPath(import.meta.url)

it('@Hub() records the file the class is declared in, where its parameter types are read from', () => {
  @Hub()
  class RecordedHub extends HubBase {}
  expect(hubMetadata.getHubSource(RecordedHub)).toBe(THIS_FILE)
})

it('records the file even when the application turned stack traces off', () => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    @Hub()
    class QuietHub extends HubBase {}
    expect(hubMetadata.getHubSource(QuietHub)).toBe(THIS_FILE)
  } finally {
    Error.stackTraceLimit = limit
  }
  expect(Error.stackTraceLimit).toBe(limit)
})
