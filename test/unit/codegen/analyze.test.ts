/**
 * The analyzer reads the fixture hubs (test/fixtures/codegen/hubs) into the hub model: names,
 * routes, methods, client methods, subjects and every type construct, without running the hubs.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { analyzeHubs } from '../../../src/codegen/analyze.js'
import type { HubDefinition, HubModel } from '../../../src/codegen/model.js'

const HUBS = 'test/fixtures/codegen/hubs'
let model: HubModel
let chat: HubDefinition
let orders: HubDefinition

beforeAll(() => {
  model = analyzeHubs({ hubsDir: HUBS, root: process.cwd() }).model
  chat = model.hubs.find((h) => h.name === 'chat')!
  orders = model.hubs.find((h) => h.name === 'orders')!
})

const str = { kind: 'primitive', name: 'string' } as const
const num = { kind: 'primitive', name: 'number' } as const

describe('hubs', () => {
  it('finds every exported @Hub class, sorted by name, with routes from the options or the name rule', () => {
    expect(model.hubs.map((h) => [h.className, h.name, h.path, h.file])).toEqual([
      ['ChatHub', 'chat', '/signalr-hubs/chat', `${HUBS}/chat-hub.ts`],
      ['OrdersHub', 'orders', '/hubs/orders', `${HUBS}/orders-hub.ts`],
    ])
  })

  it('recognises decorators imported under another name', () => {
    expect(chat.methods.map((m) => m.name)).toEqual(['echoMessage', 'history', 'react', 'report', 'sendMessage', 'tag', 'whoAmI'])
    expect(chat.clientMethods.map((m) => m.name)).toEqual(['announced', 'messageReceived', 'typing'])
  })

  it('includes decorated methods inherited from a base class', () => {
    expect(orders.methods.find((m) => m.name === 'ping')).toEqual({ name: 'ping', parameters: [], returns: str })
  })
})

describe('methods', () => {
  it('reads parameters (optional, defaulted, rest) and unwraps Promise results', () => {
    const byName = Object.fromEntries(chat.methods.map((m) => [m.name, m]))
    expect(byName.sendMessage).toEqual({
      name: 'sendMessage',
      parameters: [{ name: 'room', type: str }, { name: 'text', type: str }, { name: 'priority', type: { kind: 'ref', name: 'Priority' }, optional: true }],
      returns: str,
    })
    expect(byName.history!.parameters[1]).toEqual({ name: 'page', type: num, optional: true })
    expect(byName.history!.returns).toEqual({ kind: 'ref', name: 'History' })
    expect(byName.tag!.parameters).toEqual([{ name: 'tags', type: { kind: 'array', element: str }, rest: true }])
  })

  it('describes an inferred result as an anonymous object', () => {
    const whoAmI = chat.methods.find((m) => m.name === 'whoAmI')!
    expect(whoAmI.returns).toEqual({
      kind: 'object',
      properties: [
        { name: 'connectionId', type: str },
        { name: 'userId', type: { kind: 'union', types: [{ kind: 'primitive', name: 'null' }, str] } },
      ],
    })
  })

  it('expands library utility types (Partial, Pick) into objects', () => {
    const tag = chat.methods.find((m) => m.name === 'tag')!
    expect(tag.returns).toMatchObject({ kind: 'object', properties: [{ name: 'reason', optional: true }, { name: 'details', type: str, optional: true }] })
    const typing = chat.clientMethods.find((m) => m.name === 'typing')!
    expect(typing.parameters[0]!.type).toEqual({ kind: 'object', properties: [{ name: 'id', type: str }, { name: 'displayName', type: str }] })
    expect(typing.parameters[1]!.type).toEqual({ kind: 'union', types: [{ kind: 'date' }, { kind: 'primitive', name: 'undefined' }] })
  })

  it('marks streams both ways', () => {
    const upload = orders.methods.find((m) => m.name === 'uploadLines')!
    expect(upload.parameters[1]).toEqual({ name: 'lines', type: { kind: 'ref', name: 'OrderLine' }, stream: true })
    expect(orders.methods.find((m) => m.name === 'watch')).toEqual({ name: 'watch', parameters: [{ name: 'orderId', type: str }], returns: { kind: 'ref', name: 'Order' }, stream: true })
  })
})

describe('subjects', () => {
  it('reads @Subscribe subjects (constants too), wildcards, queue and the payload type', () => {
    expect(chat.subscriptions).toEqual([
      { subject: 'im.chat.announce', parameters: [], handler: 'announce', payload: { kind: 'ref', name: 'Announcement' } },
      { subject: 'im.chat.rooms.*.post', parameters: [{ name: 'token1', wildcard: '*' }], handler: 'post', queue: 'chat', payload: { kind: 'ref', name: 'RoomPost' } },
    ])
  })

  it('publishes @Forward invocations with their arguments as a tuple, plus lifecycle and presence events', () => {
    expect(chat.publications.map((p) => [p.kind, p.name, p.subject])).toEqual([
      ['connected', 'connected', 'im.chat.connected'],
      ['disconnected', 'disconnected', 'im.chat.disconnected'],
      ['offline', 'userOffline', 'im.chat.user.offline'],
      ['online', 'userOnline', 'im.chat.user.online'],
      ['invocation', 'report', 'svc.chat.report'],
    ])
    expect(chat.publications[4]).toMatchObject({
      invocations: [{ method: 'report', topic: false, args: { kind: 'tuple', elements: [{ name: 'messageId', type: str }, { name: 'form', type: { kind: 'ref', name: 'ReportForm' } }] } }],
    })
  })

  it('names the presence requests and the disconnect command every hub serves', () => {
    expect(chat.operations?.map((o) => [o.kind, o.name, o.subject])).toEqual([
      ['command', 'disconnect', 'im.chat.disconnect'],
      ['request', 'presenceGroup', 'im.chat.presence.group'],
      ['request', 'presenceUser', 'im.chat.presence.user'],
      ['request', 'presenceUsers', 'im.chat.presence.users'],
    ])
  })

  it('reads this.forward(`...${x}`) calls in method bodies as subjects with named wildcards', () => {
    expect(orders.publications.find((p) => p.subject === 'svc.orders.*.lines')).toEqual({
      kind: 'invocation',
      name: 'uploadLines',
      subject: 'svc.orders.*.lines',
      parameters: [{ name: 'orderId', wildcard: '*' }],
      invocations: [{ method: 'uploadLines', args: { kind: 'array', element: { kind: 'ref', name: 'OrderLine' } }, topic: false }],
    })
  })

  it('groups the methods DefaultHub forwards to im.default.receive.<topic> under one subject', () => {
    const hub = analyzeHubs({ hubsDir: 'hubs' }).model.hubs[0]!
    const receive = hub.publications.find((p) => p.kind === 'invocation')!
    expect(receive).toMatchObject({ subject: 'im.default.receive.>', parameters: [{ name: 'topic', wildcard: '>' }] })
    expect(receive.kind === 'invocation' && receive.invocations.find((i) => i.method === 'publish')).toEqual({ method: 'publish', args: { kind: 'array', element: { kind: 'primitive', name: 'unknown' } }, topic: true })
  })
})

describe('types', () => {
  it('carries every referenced named type, imported ones included, plus the envelope and presence types', () => {
    expect(Object.keys(model.types)).toEqual([
      'Announcement', 'Author', 'ChatMessage', 'DisconnectRequest', 'History', 'InvocationEnvelope', 'LifecycleEvent', 'Mood', 'Order', 'OrderLine',
      'Page', 'PresenceConnection', 'PresenceError', 'PresenceGroupAnswer', 'PresenceGroupRequest', 'PresenceUserAnswer', 'PresenceUserCount',
      'PresenceUserRequest', 'PresenceUsersAnswer', 'PresenceUsersRequest', 'Priority', 'Reaction', 'ReportForm', 'Result', 'RoomPost', 'UserPresenceEvent',
    ])
    expect(model.types.Author!.file).toBe('test/fixtures/codegen/shared/types.ts')
  })

  it('keeps enums with their values, docs included', () => {
    expect(model.types.Priority).toEqual({ kind: 'enum', name: 'Priority', file: 'test/fixtures/codegen/shared/types.ts', doc: 'How urgent a message is.', members: [{ name: 'Low', value: 0 }, { name: 'Normal', value: 1 }, { name: 'High', value: 2 }] })
    expect(model.types.Mood).toMatchObject({ kind: 'enum', members: [{ name: 'Happy', value: 'happy' }, { name: 'Grumpy', value: 'grumpy' }] })
  })

  it('reads interfaces: optional, readonly, nullable, tuples, Record, dates, bytes, quoted names, literal unions', () => {
    const message = model.types.ChatMessage!
    expect(message.kind === 'interface' && Object.fromEntries(message.properties.map((p) => [p.name, p]))).toMatchObject({
      id: { type: str, readonly: true },
      mood: { type: { kind: 'ref', name: 'Mood' }, optional: true },
      reactions: { type: { kind: 'object', properties: [], additional: num } },
      location: {
        optional: true,
        doc: '[latitude, longitude], when shared.',
        type: { kind: 'union', types: [{ kind: 'tuple', elements: [{ name: 'lat', type: num }, { name: 'lng', type: num }] }, { kind: 'primitive', name: 'null' }] },
      },
      'content-type': { type: { kind: 'union', types: [{ kind: 'literal', value: 'text/plain' }, { kind: 'literal', value: 'text/markdown' }] } },
      edited: { type: { kind: 'primitive', name: 'boolean' } },
      thumbnail: { type: { kind: 'bytes' }, optional: true, doc: 'Bytes: base64 in JSON, bin in MessagePack.' },
    })
    expect(model.types.Author).toMatchObject({ properties: [{ name: 'id' }, { name: 'displayName' }, { name: 'since', type: { kind: 'date' } }] })
  })

  it('keeps generics as type parameters and flattens inherited properties with the arguments bound', () => {
    expect(model.types.Page).toMatchObject({ typeParameters: ['T'], properties: [{ name: 'items', type: { kind: 'array', element: { kind: 'typeParameter', name: 'T' } } }, { name: 'next' }, { name: 'total', optional: true }] })
    expect(model.types.History).toMatchObject({ kind: 'alias', type: { kind: 'ref', name: 'Page', args: [{ kind: 'ref', name: 'ChatMessage' }] } })
    expect(model.types.Announcement).toMatchObject({ properties: [{ name: 'data', type: str }, { name: 'sentAt', type: { kind: 'date' } }, { name: 'level', type: { kind: 'ref', name: 'Priority' } }] })
    expect(model.types.Result).toMatchObject({ kind: 'alias', typeParameters: ['T'], type: { kind: 'union' } })
  })
})
