/**
 * `im generate` reads what a hub calls on clients from its client interface (`HubBase<T>`, also
 * through a project base class), merges it with @ClientMethod declarations, and refuses a name
 * the two declare differently, naming both.
 */
import { readFileSync } from 'node:fs'
import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeHubs } from '../../../src/codegen/analyze.js'
import { CodegenError } from '../../../src/codegen/codegen-error.js'
import { emitTsClient } from '../../../src/codegen/emit-ts-client.js'
import type { HubDefinition, HubModel } from '../../../src/codegen/model.js'
import type { RoomsHubProxy } from './__snapshots__/rooms-client.snapshot.js'

const str = { kind: 'primitive', name: 'string' } as const
let model: HubModel
let rooms: HubDefinition
let lobby: HubDefinition

beforeAll(() => {
  model = analyzeHubs({ hubsDir: 'test/fixtures/codegen/typed-hubs' }).model
  rooms = model.hubs.find((h) => h.className === 'RoomsHub')!
  lobby = model.hubs.find((h) => h.className === 'LobbyHub')!
})

describe('the client interface', () => {
  it('lists its methods with @ClientMethod ones, each name once, sorted', () => {
    expect(rooms.clientMethods.map((m) => m.name)).toEqual(['confirmLeave', 'kicked', 'location', 'message', 'typing'])
    expect(rooms.clientMethods.find((m) => m.name === 'typing')).toEqual({
      name: 'typing',
      parameters: [{ name: 'user', type: str }, { name: 'on', type: { kind: 'primitive', name: 'boolean' }, optional: true }],
    })
    expect(rooms.clientMethods.find((m) => m.name === 'message')!.parameters).toEqual([{ name: 'message', type: { kind: 'ref', name: 'RoomMessage' } }])
    expect(model.types.RoomMessage).toBeDefined()
  })

  it('records what a client answers (Promise unwrapped), and nothing for void', () => {
    const returns = Object.fromEntries(rooms.clientMethods.map((m) => [m.name, m.returns]))
    expect(returns).toEqual({
      confirmLeave: { kind: 'primitive', name: 'boolean' },
      kicked: undefined,
      location: { kind: 'union', types: [{ kind: 'object', properties: [{ name: 'lat', type: { kind: 'primitive', name: 'number' } }, { name: 'lng', type: { kind: 'primitive', name: 'number' } }] }, { kind: 'primitive', name: 'null' }] },
      message: undefined,
      typing: undefined,
    })
  })

  it('reads an inline interface too', () => {
    expect(lobby.clientMethods).toEqual([{ name: 'welcome', parameters: [{ name: 'name', type: str }] }])
  })

  it('types the frontend proxy: on(...) handlers take the arguments and may answer', async () => {
    await expect(emitTsClient(rooms, model)).toMatchFileSnapshot('__snapshots__/rooms-client.snapshot.ts')
  })
})

describe('declared twice, differently', () => {
  const file = 'test/fixtures/codegen/client-conflict/conflict-hub.ts'
  const lines = readFileSync(file, 'utf8').split('\n')
  const lineOf = (marker: string): number => lines.findIndex((l) => l.includes(`// marker: ${marker}`)) + 1

  function problems(): CodegenError['problems'] {
    try {
      analyzeHubs({ hubsDir: 'test/fixtures/codegen/client-conflict' })
    } catch (error) {
      if (error instanceof CodegenError) return error.problems
      throw error
    }
    throw new Error('analysis should have failed')
  }

  it('refuses a name whose parameters differ, naming both declarations', () => {
    expect(problems()).toContainEqual({
      file,
      line: lineOf('message'),
      member: 'ConflictHub.message',
      message: "client method 'message' is declared by @ClientMethod as message(text: string, at: Date) and by ConflictClient as message(text: string); declare it once, in ConflictClient (or make both agree)",
    })
  })

  it('refuses a member that is not a method', () => {
    expect(problems()).toContainEqual(expect.objectContaining({ file, line: lineOf('property'), member: 'ConflictClient.count' }))
  })
})

/** Never run: the compiler checks the generated proxy's handler types (npm run typecheck). */
export function handlersCompile(proxy: RoomsHubProxy): void {
  proxy.on('message', (message) => void message.sentAt.getTime())
  proxy.on('confirmLeave', async (room) => room.length > 0)
  proxy.on('location', () => null)
  // @ts-expect-error: confirmLeave answers a boolean
  proxy.on('confirmLeave', () => 'yes')
  // @ts-expect-error: no such client method
  proxy.on('mesage', () => {})
  // @ts-expect-error: typing's first argument is a string
  proxy.on('typing', (user: number) => void user)
}
