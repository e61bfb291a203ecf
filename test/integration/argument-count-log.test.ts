/**
 * A wrong argument count reaches the client only as "Failed to invoke..." (details need
 * enableDetailedErrors); the operator finds the method and both counts in the debug log.
 */
import { expect, it } from 'vitest'
import { EchoHub } from '../fixtures/hubs/test-hubs.js'
import { connectClient } from '../support/clients.js'
import { startTestServer } from '../support/im-server.js'
import { createConsoleLogger } from '../../src/logger.js'

it('logs a refused argument count at debug with the method, the given and the expected counts', async () => {
  const lines: string[] = []
  await using server = await startTestServer({ hubs: [EchoHub], logger: createConsoleLogger({ level: 'debug', write: (line) => void lines.push(line) }) })
  await using client = await connectClient(server.hubUrl('/hubs/echo'))

  await expect(client.invoke('echo')).rejects.toThrow(/^Failed to invoke 'echo' due to an error on the server\.$/)
  await expect(client.invoke('ADD', 1, 2, 3)).rejects.toThrow(/^Failed to invoke 'ADD' due to an error on the server\.$/)

  const logged = lines.filter((line) => line.includes('wrong argument count'))
  expect(logged).toHaveLength(2)
  expect(logged[0]).toMatch(/ debug wrong argument count hub="echo" method="echo" given=0 expected="1"$/)
  expect(logged[1]).toMatch(/ debug wrong argument count hub="echo" method="add" given=3 expected="1 to 2"$/)
})

it('writes nothing about it at the default level', async () => {
  const lines: string[] = []
  await using server = await startTestServer({ hubs: [EchoHub], logger: createConsoleLogger({ write: (line) => void lines.push(line) }) })
  await using client = await connectClient(server.hubUrl('/hubs/echo'))
  await expect(client.invoke('echo', 1, 2)).rejects.toThrow("Failed to invoke 'echo'")
  expect(lines.filter((line) => line.includes('argument count'))).toEqual([])
})
