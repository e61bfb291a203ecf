/**
 * The run-time binder built from a hub model: which values each declared type accepts, how Date
 * and Uint8Array values are revived from their wire forms, and how a refusal names the
 * parameter and the path. Models are written by hand here, as the analyzer would produce them.
 */
import { describe, expect, it } from 'vitest'
import { compileHubBindings } from '../../../src/codegen/hub-binders.js'
import type { HubDefinition, HubMethodModel, Parameter, SubscriptionModel, TypeDeclaration, TypeRef } from '../../../src/codegen/model.js'
import type { MethodBinding, ValueBinder } from '../../../src/hub/binding.js'

const string: TypeRef = { kind: 'primitive', name: 'string' }
const number: TypeRef = { kind: 'primitive', name: 'number' }
const unknown: TypeRef = { kind: 'primitive', name: 'unknown' }
const date: TypeRef = { kind: 'date' }
/** Not in every model yet: the binder handles it all the same. */
const bytes: TypeRef = { kind: 'bytes' }

const types: Record<string, TypeDeclaration> = {
  Message: {
    kind: 'interface',
    name: 'Message',
    file: 'x.ts',
    properties: [
      { name: 'text', type: string },
      { name: 'sentAt', type: date },
      { name: 'replyTo', type: { kind: 'ref', name: 'Message' }, optional: true },
      { name: 'note', type: string, optional: true },
      { name: 'body', type: bytes, optional: true },
    ],
  },
  Status: { kind: 'enum', name: 'Status', file: 'x.ts', members: [{ name: 'Open', value: 'open' }, { name: 'Done', value: 'done' }] },
  Page: {
    kind: 'interface',
    name: 'Page',
    file: 'x.ts',
    typeParameters: ['T'],
    properties: [{ name: 'items', type: { kind: 'array', element: { kind: 'typeParameter', name: 'T' } } }],
  },
}

function hub(methods: HubMethodModel[], subscriptions: SubscriptionModel[] = []): HubDefinition {
  return { className: 'TestHub', name: 'test', path: '/test', file: 'x.ts', methods, clientMethods: [], subscriptions, publications: [] }
}

function method(...parameters: Parameter[]): MethodBinding {
  return compileHubBindings(hub([{ name: 'm', parameters, returns: unknown }]), types).method('M')!
}

function payload(type: TypeRef): ValueBinder | undefined {
  return compileHubBindings(hub([], [{ subject: 'x.y', parameters: [], handler: 'onX', payload: type }]), types).subscription('onX')
}

describe('arity from the model', () => {
  it('counts required, optional and rest parameters, client streams included', () => {
    expect(method({ name: 'a', type: string }, { name: 'b', type: number, optional: true }).arity).toEqual({ min: 1, max: 2 })
    expect(method({ name: 'a', type: string }, { name: 'rest', type: { kind: 'array', element: unknown }, rest: true }).arity).toEqual({ min: 1, max: Infinity })
    expect(method({ name: 'a', type: string }, { name: 's', type: number, stream: true }).arity).toEqual({ min: 2, max: 2 })
  })
})

describe('arguments', () => {
  it('compiles nothing when no parameter type says anything', () => {
    expect(method({ name: 'a', type: unknown }, { name: 'rest', type: { kind: 'array', element: unknown }, rest: true }).bindArguments).toBeUndefined()
  })

  it('refuses a wrong primitive, naming the parameter', () => {
    const bind = method({ name: 'name', type: string }, { name: 'count', type: number }).bindArguments!
    expect(bind(['a', 1])).toBeUndefined()
    expect(bind([42, 1])).toEqual({ parameter: 'name', path: '', message: 'must be string' })
    expect(bind(['a', '1'])).toEqual({ parameter: 'count', path: '', message: 'must be number' })
  })

  it('checks each rest argument against the element type, and accepts anything for unknown[]', () => {
    const typed = method({ name: 'topic', type: string }, { name: 'ids', type: { kind: 'array', element: number }, rest: true }).bindArguments!
    expect(typed(['t', 1, 2])).toBeUndefined()
    expect(typed(['t', 1, 'x'])).toEqual({ parameter: 'ids', path: '', message: 'must be number' })
    const open = method({ name: 'topic', type: string }, { name: 'args', type: { kind: 'array', element: unknown }, rest: true }).bindArguments!
    expect(open(['t', { any: 1 }, null, [1]])).toBeUndefined()
    expect(open([1])).toEqual({ parameter: 'topic', path: '', message: 'must be string' })
  })

  it('checks a method of rest arguments only, and tuples without fixed elements', () => {
    const bind = method({ name: 'ids', type: { kind: 'array', element: number }, rest: true }).bindArguments!
    expect(bind([])).toBeUndefined()
    expect(bind([1, 2])).toBeUndefined()
    expect(bind([1, 'x'])).toEqual({ parameter: 'ids', path: '', message: 'must be number' })
    const tuple = method({ name: 't', type: { kind: 'tuple', elements: [{ type: { kind: 'array', element: string }, rest: true }] } }).bindArguments!
    expect(tuple([['a', 'b']])).toBeUndefined()
    expect(tuple([['a', 1]])).toEqual({ parameter: 't', path: '/1', message: 'must be string' })
  })

  it('reads null for an optional parameter as left out', () => {
    const bind = method({ name: 'a', type: string }, { name: 'b', type: number, optional: true }).bindArguments!
    const args: unknown[] = ['x', null]
    expect(bind(args)).toBeUndefined()
    expect(args).toEqual(['x', undefined])
  })

  it('names the path inside an object, and accepts extra properties', () => {
    const bind = method({ name: 'message', type: { kind: 'ref', name: 'Message' } }).bindArguments!
    expect(bind([{ text: 'a', sentAt: '2030-01-01T00:00:00Z', extra: 1 }])).toBeUndefined()
    expect(bind([{ text: 'a', sentAt: '2030-01-01T00:00:00Z', replyTo: { text: 1, sentAt: '2030-01-01' } }])).toEqual({ parameter: 'message', path: '/replyTo/text', message: 'must be string' })
    expect(bind([{ sentAt: '2030-01-01' }])).toEqual({ parameter: 'message', path: '', message: "must have required property 'text'" })
  })

  it('words a failed union by its members', () => {
    const bind = method({ name: 'v', type: { kind: 'union', types: [string, number] } }).bindArguments!
    expect(bind([true])).toEqual({ parameter: 'v', path: '', message: 'must be string or number' })
    const status = method({ name: 's', type: { kind: 'ref', name: 'Status' } }).bindArguments!
    expect(status(['open'])).toBeUndefined()
    expect(status(['closed'])).toEqual({ parameter: 's', path: '', message: 'must be equal to one of the allowed values' })
  })

  it('expands a generic type with its arguments', () => {
    const bind = method({ name: 'page', type: { kind: 'ref', name: 'Page', args: [number] } }).bindArguments!
    expect(bind([{ items: [1, 2] }])).toBeUndefined()
    expect(bind([{ items: [1, 'x'] }])).toEqual({ parameter: 'page', path: '/items/1', message: 'must be number' })
  })
})

describe('revival', () => {
  it('makes an ISO 8601 string a Date, keeps a Date (MessagePack timestamp), and refuses other strings', () => {
    const bind = method({ name: 'at', type: date }).bindArguments!
    const json: unknown[] = ['2031-05-06T07:08:09.123Z']
    expect(bind(json)).toBeUndefined()
    expect(json[0]).toBeInstanceOf(Date)
    expect((json[0] as Date).toISOString()).toBe('2031-05-06T07:08:09.123Z')
    const timestamp = new Date(0)
    const msgpack: unknown[] = [timestamp]
    expect(bind(msgpack)).toBeUndefined()
    expect(msgpack[0]).toBe(timestamp)
    for (const bad of ['yesterday', '1700000000', '2031-13-45T00:00:00Z', 1700000000]) {
      expect(bind([bad])).toEqual({ parameter: 'at', path: '', message: 'must be an ISO 8601 date-time string' })
    }
  })

  it('revives nested dates, and dates in arrays', () => {
    const bind = method({ name: 'm', type: { kind: 'ref', name: 'Message' } }, { name: 'days', type: { kind: 'array', element: date } }).bindArguments!
    const args: unknown[] = [{ text: 'a', sentAt: '2030-01-01T00:00:00+02:00', replyTo: { text: 'b', sentAt: '2029-12-31' } }, ['2030-01-02']]
    expect(bind(args)).toBeUndefined()
    const [message, days] = args as [{ sentAt: Date; replyTo: { sentAt: Date } }, Date[]]
    expect(message.sentAt.toISOString()).toBe('2029-12-31T22:00:00.000Z')
    expect(message.replyTo.sentAt).toBeInstanceOf(Date)
    expect(days[0]).toBeInstanceOf(Date)
  })

  it('makes base64 a Uint8Array, keeps bin (MessagePack), and refuses what is not base64', () => {
    const bind = method({ name: 'data', type: bytes }).bindArguments!
    const json: unknown[] = ['AQID/w==']
    expect(bind(json)).toBeUndefined()
    expect(json[0]).toBeInstanceOf(Uint8Array)
    expect([...(json[0] as Uint8Array)]).toEqual([1, 2, 3, 255])
    const bin = new Uint8Array([9])
    const msgpack: unknown[] = [bin]
    expect(bind(msgpack)).toBeUndefined()
    expect(msgpack[0]).toBe(bin)
    for (const bad of ['not base64!', 'AQI', 42, [1, 2]]) {
      expect(bind([bad])).toEqual({ parameter: 'data', path: '', message: 'must be base64 (JSON) or bin (MessagePack)' })
    }
  })
})

describe('payloads', () => {
  it('checks nothing for an unknown payload', () => {
    expect(payload(unknown)).toBeUndefined()
  })

  it('matches property names ignoring case and reads null in an optional property as absent', () => {
    const bind = payload({ kind: 'ref', name: 'Message' })!
    const bound = bind({ Text: 'hi', SENTAT: '2030-01-01T00:00:00Z', note: null, Extra: 1 })
    expect(bound.failure).toBeUndefined()
    const value = (bound as { value: unknown }).value as Record<string, unknown>
    expect(Object.keys(value).sort()).toEqual(['Extra', 'sentAt', 'text'])
    expect(value['sentAt']).toBeInstanceOf(Date)
  })

  it('refuses a payload of the wrong shape with the path', () => {
    const bind = payload({ kind: 'ref', name: 'Message' })!
    expect(bind({ text: 'hi', sentAt: 'soon' })).toEqual({ failure: { parameter: 'payload', path: '/sentAt', message: 'must be an ISO 8601 date-time string' } })
    expect(bind('text')).toEqual({ failure: { parameter: 'payload', path: '', message: 'must be object' } })
  })

  it('revives a top-level Date payload', () => {
    expect((payload(date)!('2030-01-01T00:00:00Z') as { value: unknown }).value).toBeInstanceOf(Date)
  })
})

describe('client-stream items', () => {
  it('checks each item against the item type, and compiles nothing for unknown items', () => {
    const binding = method({ name: 'topic', type: string }, { name: 'items', type: number, stream: true }, { name: 'rest', type: unknown, stream: true })
    const [items, rest] = binding.streamItems
    expect(items!(3)).toEqual({ value: 3 })
    expect(items!('3')).toEqual({ failure: { parameter: 'items', path: '', message: 'must be number' } })
    expect(rest).toBeUndefined()
  })
})
