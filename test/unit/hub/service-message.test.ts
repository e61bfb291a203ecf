import { describe, expect, it } from 'vitest'
import { ImError, ImErrorCode } from '../../../src/errors.js'
import { readGroupMembership, readSendMessage, readTargets } from '../../../src/hub/service-message.js'

/** Runs `read` and returns the ImError it threw, checking it is IM_INVALID_PAYLOAD. */
function invalidPayload(read: () => unknown): string {
  try {
    read()
  } catch (error) {
    expect(error).toBeInstanceOf(ImError)
    expect((error as ImError).code).toBe(ImErrorCode.InvalidPayload)
    return (error as ImError).message
  }
  throw new Error('expected IM_INVALID_PAYLOAD, but the payload was accepted')
}

const NAME_ERROR = (key: string): string => `"${key}" must be a non-empty string of at most 256 characters`

describe('readSendMessage', () => {
  it.each([
    [{ method: 'refresh', args: ['orders', 2] }, { method: 'refresh', args: ['orders', 2], excludeConnectionIds: [] }],
    [{ method: 'refresh' }, { method: 'refresh', args: [], excludeConnectionIds: [] }],
    [{ Method: 'refresh', Data: { id: 1 } }, { method: 'refresh', args: [{ id: 1 }], excludeConnectionIds: [] }],
    [{ METHOD: 'refresh', ARGS: [] }, { method: 'refresh', args: [], excludeConnectionIds: [] }],
    [{ method: 'refresh', data: null }, { method: 'refresh', args: [null], excludeConnectionIds: [] }],
    [{ method: 'refresh', data: [1, 2] }, { method: 'refresh', args: [[1, 2]], excludeConnectionIds: [] }],
    [{ method: 'refresh', args: null, data: 5 }, { method: 'refresh', args: [5], excludeConnectionIds: [] }],
    [{ method: 'refresh', args: [1], data: 2 }, { method: 'refresh', args: [1], excludeConnectionIds: [] }],
    [{ method: 'refresh', ExcludeConnectionIds: ['a', 'b'] }, { method: 'refresh', args: [], excludeConnectionIds: ['a', 'b'] }],
    [{ method: 'refresh', excludeConnectionIds: null }, { method: 'refresh', args: [], excludeConnectionIds: [] }],
    [{ method: 'm'.repeat(256) }, { method: 'm'.repeat(256), args: [], excludeConnectionIds: [] }],
  ])('reads %j', (payload, expected) => {
    expect(readSendMessage(payload)).toEqual(expected)
  })

  it.each([
    [null, 'payload must be a JSON object'],
    [[], 'payload must be a JSON object'],
    ['refresh', 'payload must be a JSON object'],
    [42, 'payload must be a JSON object'],
    [{}, '"method" is missing'],
    [{ method: null }, '"method" is missing'],
    [{ method: '' }, NAME_ERROR('method')],
    [{ method: 7 }, NAME_ERROR('method')],
    [{ method: 'm'.repeat(257) }, NAME_ERROR('method')],
    [{ method: 'm', args: 'x' }, '"args" must be an array'],
    [{ method: 'm', args: { 0: 'x' } }, '"args" must be an array'],
    [{ method: 'm', excludeConnectionIds: 'a' }, '"excludeConnectionIds" must be an array of non-empty strings'],
    [{ method: 'm', excludeConnectionIds: ['a', ''] }, '"excludeConnectionIds" must be an array of non-empty strings'],
    [{ method: 'm', excludeConnectionIds: [1] }, '"excludeConnectionIds" must be an array of non-empty strings'],
    [{ method: 'm', durable: 'yes' }, '"durable" must be true or false, not "yes"'],
    [{ method: 'm', durable: 1 }, '"durable" must be true or false, not 1'],
    [{ method: 'm', Durable: {} }, '"durable" must be true or false, not {}'],
    [{ method: 'm', durable: true, spreadMs: 100 }, 'a "durable" message is delivered at once and in order: it takes no "spreadMs", "collapseKey" or "collapseWindowMs"'],
    [{ method: 'm', durable: true, collapseKey: 'k' }, 'a "durable" message is delivered at once and in order: it takes no "spreadMs", "collapseKey" or "collapseWindowMs"'],
  ])('refuses %j with the exact problem', (payload, message) => {
    expect(invalidPayload(() => readSendMessage(payload))).toBe(message)
  })

  it('reads "durable", and with the context of a stream message carries its sequence for delivery', () => {
    expect(readSendMessage({ method: 'm', durable: false })).toEqual({ method: 'm', args: [], excludeConnectionIds: [] })
    expect(readSendMessage({ method: 'm', durable: true })).toEqual({ method: 'm', args: [], excludeConnectionIds: [], durable: true })
    expect(readSendMessage({ method: 'm', durable: true }, { sequence: 42 })).toEqual({ method: 'm', args: [], excludeConnectionIds: [], durable: true, delivery: { durableSequence: 42 } })
    // From core NATS there is no sequence: delivered live like any message.
    expect(readSendMessage({ method: 'm', durable: true }, {})).toEqual({ method: 'm', args: [], excludeConnectionIds: [], durable: true })
    expect(readSendMessage({ method: 'm' }, { sequence: 42 })).toEqual({ method: 'm', args: [], excludeConnectionIds: [] })
  })

  it('refuses arguments nested deeper than every protocol can carry', () => {
    let deep: unknown = 1
    for (let i = 0; i < 70; i++) deep = [deep]
    expect(invalidPayload(() => readSendMessage({ method: 'm', args: [deep] }))).toBe('"args" are nested deeper than 64 levels')
    let ok: unknown = 1
    for (let i = 0; i < 60; i++) ok = [ok]
    expect(readSendMessage({ method: 'm', args: [ok] }).args).toEqual([ok])
  })
})

const METHOD_SHAPE = '"method" must start with a letter, \'_\' or \'$\' and hold only letters, digits and _ $ . : / -'

describe('readSendMessage method names', () => {
  it.each(['refreshTable', 'ReceiveMessage', '_private', '$event', 'orders.updated', 'chat:message', 'orders/created', 'on-update', 'v2', 'Überweisung', '通知'])(
    'takes %j',
    (method) => {
      expect(readSendMessage({ method }).method).toBe(method)
    },
  )

  it.each([
    ['NUL', 'a\u0000b'],
    ['CR/LF', 'refresh\r\nX-Injected: 1'],
    ['a record separator', 'a\u001eb'],
    ['DEL', 'a\u007f'],
    ['a C1 control', 'a\u0085b'],
    ['a line separator', 'a\u2028b'],
    ['markup', '<script>alert(1)</script>'],
    ['a space', 'refresh table'],
    ['a leading digit', '1refresh'],
    ['a leading dot', '.refresh'],
    ['a quote', 'a"b'],
  ])('refuses a name with %s', (_, method) => {
    expect(invalidPayload(() => readSendMessage({ method }))).toBe(METHOD_SHAPE)
  })

  it('refuses a name longer than 256 characters', () => {
    expect(invalidPayload(() => readSendMessage({ method: 'm'.repeat(257) }))).toBe(NAME_ERROR('method'))
  })
})

describe('readTargets', () => {
  it.each([
    [{ connectionId: 'a' }, ['a']],
    [{ ConnectionId: 'a' }, ['a']],
    [{ connectionIds: ['a', 'b'] }, ['a', 'b']],
    [{ CONNECTIONIDS: ['a'] }, ['a']],
    [{ connectionIds: ['b', 'c'], connectionId: 'a' }, ['a', 'b', 'c']],
    [{ connectionId: null, connectionIds: ['a'] }, ['a']],
  ])('reads the connection targets of %j, the singular first', (payload, expected) => {
    expect(readTargets(payload, 'connectionId', 'connectionIds')).toEqual(expected)
  })

  it('reads any singular and plural pair it is given', () => {
    expect(readTargets({ UserId: 'alice', userIds: ['bob'] }, 'userId', 'userIds')).toEqual(['alice', 'bob'])
    expect(readTargets({ groups: ['room-1'] }, 'group', 'groups')).toEqual(['room-1'])
  })

  it.each([
    [{}, '"connectionId" or "connectionIds" is missing'],
    [{ connectionIds: [] }, '"connectionId" or "connectionIds" is missing'],
    [{ connectionId: null }, '"connectionId" or "connectionIds" is missing'],
    [{ connectionId: 5 }, NAME_ERROR('connectionId')],
    [{ connectionId: '' }, NAME_ERROR('connectionId')],
    [{ connectionIds: 'a' }, '"connectionIds" must be an array of non-empty strings'],
    [{ connectionIds: ['a', null] }, '"connectionIds" must be an array of non-empty strings'],
    [[], 'payload must be a JSON object'],
  ])('refuses %j with the exact problem', (payload, message) => {
    expect(invalidPayload(() => readTargets(payload, 'connectionId', 'connectionIds'))).toBe(message)
  })
})

describe('readGroupMembership', () => {
  it.each([
    [{ group: 'room', connectionId: 'a' }, { group: 'room', connectionId: 'a' }],
    [{ Group: 'room', UserId: 'alice' }, { group: 'room', userId: 'alice' }],
    [{ GROUP: 'room', CONNECTIONID: 'a' }, { group: 'room', connectionId: 'a' }],
    [{ group: 'room', connectionId: null, userId: 'alice' }, { group: 'room', userId: 'alice' }],
  ])('reads %j', (payload, expected) => {
    expect(readGroupMembership(payload)).toEqual(expected)
  })

  it.each([
    [{ connectionId: 'a' }, '"group" is missing'],
    [{ group: '', connectionId: 'a' }, NAME_ERROR('group')],
    [{ group: ['room'], connectionId: 'a' }, NAME_ERROR('group')],
    [{ group: 'room' }, 'exactly one of "connectionId" or "userId" is required'],
    [{ group: 'room', connectionId: 'a', userId: 'alice' }, 'exactly one of "connectionId" or "userId" is required'],
    [{ group: 'room', userId: 42 }, NAME_ERROR('userId')],
    [null, 'payload must be a JSON object'],
  ])('refuses %j with the exact problem', (payload, message) => {
    expect(invalidPayload(() => readGroupMembership(payload))).toBe(message)
  })
})
