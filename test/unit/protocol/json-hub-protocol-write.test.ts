import { JsonHubProtocol as ClientJsonHubProtocol, NullLogger } from '@microsoft/signalr'
import { describe, expect, it } from 'vitest'
import { JsonHubProtocol, jsonHubProtocol } from '../../../src/protocol/json-hub-protocol.js'
import { TransferFormat } from '../../../src/protocol/messages.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

const write = (message: HubMessage) => jsonHubProtocol.writeMessage(message)

describe('JsonHubProtocol identity', () => {
  it('is the json protocol, version 2, over Text', () => {
    expect(new JsonHubProtocol()).toMatchObject({ name: 'json', version: 2, transferFormat: TransferFormat.Text })
  })
})

describe('JsonHubProtocol.writeMessage', () => {
  const cases: [string, HubMessage, string][] = [
    [
      'an invocation with id',
      { type: 1, invocationId: '7', target: 'echo', arguments: ['a', 1, null] },
      '{"type":1,"invocationId":"7","target":"echo","arguments":["a",1,null]}\u001e',
    ],
    [
      'a broadcast invocation without id',
      { type: 1, target: 'refreshTable', arguments: [{ id: 1 }] },
      '{"type":1,"target":"refreshTable","arguments":[{"id":1}]}\u001e',
    ],
    ['an invocation with an empty id as no id', { type: 1, invocationId: '', target: 't', arguments: [] }, '{"type":1,"target":"t","arguments":[]}\u001e'],
    [
      'an invocation with streamIds',
      { type: 1, invocationId: '1', target: 't', arguments: [], streamIds: ['2'] },
      '{"type":1,"invocationId":"1","target":"t","arguments":[],"streamIds":["2"]}\u001e',
    ],
    [
      'headers right after the type',
      { type: 1, target: 't', arguments: [], headers: { a: 'b' } },
      '{"type":1,"headers":{"a":"b"},"target":"t","arguments":[]}\u001e',
    ],
    ['no headers when they are empty', { type: 5, invocationId: '1', headers: {} }, '{"type":5,"invocationId":"1"}\u001e'],
    ['undefined arguments as null', { type: 1, target: 't', arguments: [undefined] }, '{"type":1,"target":"t","arguments":[null]}\u001e'],
    ['a stream item', { type: 2, invocationId: '1', item: { n: 1 } }, '{"type":2,"invocationId":"1","item":{"n":1}}\u001e'],
    ['a stream item of undefined as null', { type: 2, invocationId: '1', item: undefined }, '{"type":2,"invocationId":"1","item":null}\u001e'],
    ['a completion with a result', { type: 3, invocationId: '1', result: 'ok' }, '{"type":3,"invocationId":"1","result":"ok"}\u001e'],
    ['a completion with a null result', { type: 3, invocationId: '1', result: null }, '{"type":3,"invocationId":"1","result":null}\u001e'],
    ['a completion with an undefined result as neither', { type: 3, invocationId: '1', result: undefined }, '{"type":3,"invocationId":"1"}\u001e'],
    ['a completion with neither', { type: 3, invocationId: '1' }, '{"type":3,"invocationId":"1"}\u001e'],
    [
      'a completion with an error',
      { type: 3, invocationId: '1', error: "Failed to invoke 'x' due to an error on the server." },
      '{"type":3,"invocationId":"1","error":"Failed to invoke \'x\' due to an error on the server."}\u001e',
    ],
    [
      'a stream invocation',
      { type: 4, invocationId: '1', target: 's', arguments: [3] },
      '{"type":4,"invocationId":"1","target":"s","arguments":[3]}\u001e',
    ],
    ['a cancel invocation', { type: 5, invocationId: '1' }, '{"type":5,"invocationId":"1"}\u001e'],
    ['a ping', { type: 6 }, '{"type":6}\u001e'],
    ['a close', { type: 7 }, '{"type":7}\u001e'],
    ['a close with an error', { type: 7, error: 'bye' }, '{"type":7,"error":"bye"}\u001e'],
    ['a close with an empty error', { type: 7, error: '' }, '{"type":7,"error":""}\u001e'],
    ['a close allowing reconnect', { type: 7, error: 'x', allowReconnect: true }, '{"type":7,"error":"x","allowReconnect":true}\u001e'],
    ['a close with allowReconnect false', { type: 7, allowReconnect: false }, '{"type":7}\u001e'],
    ['an ack', { type: 8, sequenceId: 12 }, '{"type":8,"sequenceId":12}\u001e'],
    ['a sequence', { type: 9, sequenceId: 1 }, '{"type":9,"sequenceId":1}\u001e'],
    [
      'escapes in strings',
      { type: 1, target: 'a"b', arguments: ['\u001e', 'line\n', '\ud800'] },
      '{"type":1,"target":"a\\"b","arguments":["\\u001e","line\\n","\\ud800"]}\u001e',
    ],
  ]

  it.each(cases)('writes %s as .NET does', (_name, message, wire) => {
    expect(write(message)).toBe(wire)
  })

  it('throws a TypeError for a payload JSON cannot encode, so the caller can report it', () => {
    expect(() => write({ type: 3, invocationId: '1', result: 1n })).toThrow(TypeError)
  })
})

describe('JsonHubProtocol.writeMessage: bytes and dates in System.Text.Json forms', () => {
  const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678))
  const cases: [string, HubMessage, string][] = [
    ['a Uint8Array argument as base64', { type: 1, target: 't', arguments: [Uint8Array.of(0, 1, 2, 250, 255)] }, '{"type":1,"target":"t","arguments":["AAEC+v8="]}\u001e'],
    ['a Buffer as base64, not its toJSON form', { type: 1, target: 't', arguments: [Buffer.from('hi')] }, '{"type":1,"target":"t","arguments":["aGk="]}\u001e'],
    ['an empty Uint8Array as an empty string', { type: 1, target: 't', arguments: [new Uint8Array(0)] }, '{"type":1,"target":"t","arguments":[""]}\u001e'],
    ['a view into a larger buffer as its own bytes only', { type: 1, target: 't', arguments: [new Uint8Array([9, 1, 2, 3, 9]).subarray(1, 4)] }, '{"type":1,"target":"t","arguments":["AQID"]}\u001e'],
    ['a Date argument as ISO 8601', { type: 1, target: 't', arguments: [at] }, '{"type":1,"target":"t","arguments":["2024-01-02T03:04:05.678Z"]}\u001e'],
    [
      'bytes and dates nested in a stream item',
      { type: 2, invocationId: '1', item: { files: [{ data: Uint8Array.of(1), at }] } },
      '{"type":2,"invocationId":"1","item":{"files":[{"data":"AQ==","at":"2024-01-02T03:04:05.678Z"}]}}\u001e',
    ],
    ['a completion result of bytes', { type: 3, invocationId: '1', result: Uint8Array.of(1, 2) }, '{"type":3,"invocationId":"1","result":"AQI="}\u001e'],
    ['a completion result of a Date', { type: 3, invocationId: '1', result: at }, '{"type":3,"invocationId":"1","result":"2024-01-02T03:04:05.678Z"}\u001e'],
  ]

  it.each(cases)('writes %s', (_name, message, wire) => {
    expect(write(message)).toBe(wire)
  })

  it('writes bytes nested deeper than the scan follows', () => {
    let deep: unknown = Uint8Array.of(7)
    for (let i = 0; i < 100; i++) deep = [deep]
    expect(write({ type: 2, invocationId: '1', item: deep })).toBe(`{"type":2,"invocationId":"1","item":${'['.repeat(100)}"Bw=="${']'.repeat(100)}}\u001e`)
  })

  it.each([
    ['an argument', { type: 1, target: 't', arguments: [new Date(Number.NaN)] }],
    ['a nested item', { type: 2, invocationId: '1', item: { a: [{ at: new Date('not a date') }] } }],
    ['a result', { type: 3, invocationId: '1', result: new Date(Number.NaN) }],
  ] as [string, HubMessage][])('refuses an invalid Date in %s instead of writing null', (_name, message) => {
    expect(() => write(message)).toThrow(new TypeError('An invalid Date has no ISO 8601 form and cannot be sent.'))
  })

  it('refuses an invalid Date nested deeper than the scan follows', () => {
    let deep: unknown = new Date(Number.NaN)
    for (let i = 0; i < 100; i++) deep = { next: deep }
    expect(() => write({ type: 2, invocationId: '1', item: deep })).toThrow('An invalid Date has no ISO 8601 form')
  })

  it('still refuses a cycle', () => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    expect(() => write({ type: 2, invocationId: '1', item: cycle })).toThrow(TypeError)
  })

  it('gives the official client the strings a .NET server would send', () => {
    const parsed = new ClientJsonHubProtocol().parseMessages(write({ type: 3, invocationId: '1', result: { data: Uint8Array.of(1, 2), at } }), NullLogger.instance)
    expect(parsed).toEqual([{ type: 3, invocationId: '1', result: { data: 'AQI=', at: '2024-01-02T03:04:05.678Z' } }])
  })
})

describe('JsonHubProtocol round trip', () => {
  const messages: HubMessage[] = [
    { type: 1, target: 'a', arguments: [] },
    { type: 1, invocationId: '0', target: 'publish', arguments: ['room.1', { text: 'héllo 😀', n: -1.5, ok: true }] },
    { type: 1, invocationId: '1', target: 'up', arguments: [[1, [2, [3]]]], streamIds: ['2', '3'], headers: { h: 'v' } },
    { type: 2, invocationId: '2', item: null },
    { type: 2, invocationId: '2', item: [{}] },
    { type: 3, invocationId: '3', result: { nested: { deep: 'x' } } },
    { type: 3, invocationId: '3', result: null },
    { type: 3, invocationId: '3', error: 'e' },
    { type: 3, invocationId: '3' },
    { type: 4, invocationId: '4', target: 'stream', arguments: [1, 'two'] },
    { type: 5, invocationId: '4' },
    { type: 6 },
    { type: 7 },
    { type: 7, error: 'bye', allowReconnect: true },
    { type: 8, sequenceId: 9007199254740991 },
    { type: 9, sequenceId: 0 },
  ]

  it.each(messages.map((m) => [JSON.stringify(m), m] as const))('reads back what it writes: %s', (_name, message) => {
    expect(jsonHubProtocol.parseMessages(write(message))).toEqual({ messages: [message] })
    expect(jsonHubProtocol.parseMessages(new TextEncoder().encode(write(message)))).toEqual({ messages: [message] })
  })

  it('reads back a batch of everything it writes, joined in one chunk', () => {
    expect(jsonHubProtocol.parseMessages(messages.map(write).join('')).messages).toEqual(messages)
  })
})

describe('JsonHubProtocol against the official @microsoft/signalr client', () => {
  const client = new ClientJsonHubProtocol()
  // What the server sends to browsers; StreamInvocation and CancelInvocation are never sent to clients.
  const toClient: HubMessage[] = [
    { type: 1, target: 'refreshTable', arguments: [{ rows: [1, 2] }] },
    { type: 1, invocationId: '5', target: 'getAnswer', arguments: [] },
    { type: 2, invocationId: '1', item: 'x' },
    { type: 3, invocationId: '1', result: null },
    { type: 3, invocationId: '1', error: 'boom' },
    { type: 3, invocationId: '1' },
    { type: 6 },
    { type: 7, error: 'bye', allowReconnect: true },
    { type: 8, sequenceId: 3 },
    { type: 9, sequenceId: 4 },
  ]

  it('writes frames the client parses into the same messages', () => {
    const parsed = client.parseMessages(toClient.map(write).join(''), NullLogger.instance)
    expect(parsed).toEqual(toClient)
  })

  it('reads every message the client writes, whatever its property order', () => {
    const fromClient = [
      { type: 1, target: 'publish', arguments: ['t', 1], invocationId: '0' },
      { type: 1, target: 'send', arguments: [] },
      { type: 1, target: 'upload', arguments: [], invocationId: '1', streamIds: ['2'] },
      { type: 2, invocationId: '2', item: 5 },
      { type: 3, invocationId: '2' },
      { type: 3, invocationId: '6', result: 42 },
      { type: 4, target: 'counter', arguments: [3], invocationId: '3' },
      { type: 5, invocationId: '3' },
      { type: 6 },
      { type: 7 },
      { type: 8, sequenceId: 1 },
      { type: 9, sequenceId: 1 },
    ] as const
    const wire = fromClient.map((m) => client.writeMessage(m as never) as string).join('')
    expect(jsonHubProtocol.parseMessages(wire)).toEqual({ messages: fromClient })
  })
})
