import { describe, expect, it } from 'vitest'
import { jsonHubProtocol } from '../../../src/protocol/json-hub-protocol.js'
import type { HubMessage } from '../../../src/protocol/messages.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)
const parse = (input: string | Uint8Array, maxMessageSize?: number) =>
  jsonHubProtocol.parseMessages(input, maxMessageSize === undefined ? {} : { maxMessageSize })

describe('JsonHubProtocol.parseMessages: valid frames', () => {
  const cases: [string, string, HubMessage][] = [
    // The exact strings @microsoft/signalr writes: `type` last (HubConnection._createInvocation).
    [
      'a JS client invoke',
      '{"arguments":["x"],"invocationId":"0","target":"publish","type":1}\u001e',
      { type: 1, invocationId: '0', target: 'publish', arguments: ['x'] },
    ],
    [
      'a JS client send (no invocationId)',
      '{"arguments":[1,{"a":null}],"target":"send","type":1}\u001e',
      { type: 1, target: 'send', arguments: [1, { a: null }] },
    ],
    [
      'an invocation with an empty invocationId as non-blocking',
      '{"type":1,"invocationId":"","target":"t","arguments":[]}\u001e',
      { type: 1, target: 't', arguments: [] },
    ],
    [
      'an invocation with streamIds and headers',
      '{"type":1,"invocationId":"1","target":"upload","arguments":[],"streamIds":["2"],"headers":{"k":"v"}}\u001e',
      { type: 1, invocationId: '1', target: 'upload', arguments: [], streamIds: ['2'], headers: { k: 'v' } },
    ],
    [
      'a JS client stream item',
      '{"invocationId":"2","item":"a","type":2}\u001e',
      { type: 2, invocationId: '2', item: 'a' },
    ],
    ['a stream item whose item is null', '{"type":2,"invocationId":"2","item":null}\u001e', { type: 2, invocationId: '2', item: null }],
    ['a completion with a result', '{"type":3,"invocationId":"1","result":42}\u001e', { type: 3, invocationId: '1', result: 42 }],
    ['a completion with a null result', '{"type":3,"invocationId":"1","result":null}\u001e', { type: 3, invocationId: '1', result: null }],
    ['a completion with an error', '{"type":3,"invocationId":"1","error":"boom"}\u001e', { type: 3, invocationId: '1', error: 'boom' }],
    ['a completion with neither', '{"invocationId":"2","type":3}\u001e', { type: 3, invocationId: '2' }],
    [
      'a stream invocation',
      '{"type":4,"invocationId":"3","target":"counter","arguments":[10]}\u001e',
      { type: 4, invocationId: '3', target: 'counter', arguments: [10] },
    ],
    ['a JS client cancel', '{"invocationId":"3","type":5}\u001e', { type: 5, invocationId: '3' }],
    ['a JS client ping', '{"type":6}\u001e', { type: 6 }],
    ['a JS client close', '{"type":7}\u001e', { type: 7 }],
    ['a close with an error', '{"type":7,"error":"bye","allowReconnect":true}\u001e', { type: 7, error: 'bye', allowReconnect: true }],
    ['a close with allowReconnect false', '{"type":7,"allowReconnect":false}\u001e', { type: 7 }],
    ['an ack', '{"sequenceId":1394,"type":8}\u001e', { type: 8, sequenceId: 1394 }],
    ['a sequence', '{"type":9,"sequenceId":1}\u001e', { type: 9, sequenceId: 1 }],
    [
      'unknown properties ignored',
      '{"type":1,"target":"t","arguments":[],"nonce":{"deep":[1]},"x":null}\u001e',
      { type: 1, target: 't', arguments: [] },
    ],
    ['white space around the object', ' \r\n{ "type" : 6 }\n\u001e', { type: 6 }],
  ]

  it.each(cases)('reads %s', (_name, wire, expected) => {
    expect(parse(wire)).toEqual({ messages: [expected] })
    expect(parse(encode(wire))).toEqual({ messages: [expected] })
  })

  it('reads several frames in one chunk, in order', () => {
    const wire = '{"type":6}\u001e{"arguments":[],"target":"a","type":1}\u001e{"type":7}\u001e'
    expect(parse(wire).messages).toEqual([{ type: 6 }, { type: 1, target: 'a', arguments: [] }, { type: 7 }])
  })

  it('skips a message of unknown type and reads the next one', () => {
    expect(parse('{"type":99,"anything":[1]}\u001e{"type":6}\u001e')).toEqual({ messages: [{ type: 6 }] })
  })

  it('returns nothing for an empty chunk', () => {
    expect(parse('')).toEqual({ messages: [] })
    expect(parse(new Uint8Array())).toEqual({ messages: [] })
  })
})

describe('JsonHubProtocol.parseMessages: a stream split across chunks', () => {
  it('returns the unfinished frame of a string chunk as rest and reads it once completed', () => {
    const first = parse('{"type":6}\u001e{"arguments":["x"],"invoc')
    expect(first).toEqual({ messages: [{ type: 6 }], rest: '{"arguments":["x"],"invoc' })
    const second = parse(`${String(first.rest)}ationId":"0","target":"publish","type":1}\u001e`)
    expect(second).toEqual({ messages: [{ type: 1, invocationId: '0', target: 'publish', arguments: ['x'] }] })
  })

  it('keeps a multi-byte UTF-8 character cut between two byte chunks intact', () => {
    const whole = encode('{"type":1,"target":"t","arguments":["a€b😀"]}\u001e')
    const cut = whole.indexOf(0xe2) + 1 // inside the 3 bytes of '€'
    const first = parse(whole.subarray(0, cut))
    expect(first.messages).toEqual([])
    expect(first.rest).toBeInstanceOf(Uint8Array)
    const rest = first.rest as Uint8Array
    const joined = new Uint8Array(rest.length + whole.length - cut)
    joined.set(rest)
    joined.set(whole.subarray(cut), rest.length)
    expect(parse(joined)).toEqual({ messages: [{ type: 1, target: 't', arguments: ['a€b😀'] }] })
  })

  it('reads a stream fed one byte at a time', () => {
    const whole = encode('{"type":6}\u001e{"type":3,"invocationId":"1","result":"ü"}\u001e')
    const got: HubMessage[] = []
    let pending: Uint8Array = new Uint8Array()
    for (const byte of whole) {
      const chunk = new Uint8Array(pending.length + 1)
      chunk.set(pending)
      chunk[pending.length] = byte
      const result = parse(chunk)
      expect(result.error).toBeUndefined()
      got.push(...result.messages)
      pending = (result.rest as Uint8Array | undefined) ?? new Uint8Array()
    }
    expect(got).toEqual([{ type: 6 }, { type: 3, invocationId: '1', result: 'ü' }])
  })
})

describe('JsonHubProtocol.parseMessages: size limit', () => {
  const limitText = (n: number) =>
    `The maximum message size of ${n}B was exceeded. The message size can be configured in AddHubOptions.`
  const ping = '{"type":6}' // 10 bytes, 11 with the separator

  it('accepts a frame whose payload and separator fill the limit exactly', () => {
    expect(parse(`${ping}\u001e`, 11)).toEqual({ messages: [{ type: 6 }] })
    expect(parse(encode(`${ping}\u001e`), 11)).toEqual({ messages: [{ type: 6 }] })
  })

  it('refuses a frame one byte larger and keeps the messages before it', () => {
    expect(parse(`${ping}\u001e{"type": 6}\u001e{"type":6}\u001e`, 11)).toEqual({
      messages: [{ type: 6 }],
      error: limitText(11),
    })
  })

  it('measures the limit in UTF-8 bytes, not UTF-16 code units', () => {
    const frame = '{"type":2,"invocationId":"1","item":"€€€€"}' // 43 code units, 51 bytes
    expect(parse(`${frame}\u001e`, 45).error).toBe(limitText(45))
    expect(parse(`${frame}\u001e`, 51).error).toBe(limitText(51))
    expect(parse(encode(`${frame}\u001e`), 51).error).toBe(limitText(51))
    expect(parse(`${frame}\u001e`, 52).messages).toHaveLength(1)
    expect(parse(encode(`${frame}\u001e`), 52).messages).toHaveLength(1)
  })

  it('refuses an unfinished frame that already fills the limit, as string or bytes', () => {
    const partial = '{"type":1,"target":"t","arguments":["xxxxxxxxxx'
    expect(parse(partial, 20)).toEqual({ messages: [], error: limitText(20) })
    expect(parse(encode(partial), 20)).toEqual({ messages: [], error: limitText(20) })
    expect(parse(partial.slice(0, 18), 20)).toEqual({ messages: [], rest: partial.slice(0, 18) })
  })
})

describe('JsonHubProtocol.parseMessages: errors', () => {
  const cases: [string, string, string][] = [
    ['malformed JSON', '{"type":6', 'Error reading JSON.'],
    ['an empty frame', '', 'Error reading JSON.'],
    ['trailing garbage', '{"type":6}x', 'Error reading JSON.'],
    ['an array', '[1]', "Unexpected JSON Token Type 'Array'. Expected a JSON Object."],
    ['a string', '"x"', "Unexpected JSON Token Type 'String'. Expected a JSON Object."],
    ['a number', '6', "Unexpected JSON Token Type 'Number'. Expected a JSON Object."],
    ['true', 'true', "Unexpected JSON Token Type 'True'. Expected a JSON Object."],
    ['null', 'null', "Unexpected JSON Token Type 'Null'. Expected a JSON Object."],
    ['a missing type', '{"target":"t","arguments":[]}', "Missing required property 'type'."],
    ['a string type', '{"type":"1"}', "Expected 'type' to be of type Number."],
    ['a null type', '{"type":null}', "Expected 'type' to be of type Number."],
    ['a fractional type', '{"type":1.5}', "Expected 'type' to be of type Number."],
    ['an invocation without target', '{"type":1,"arguments":[]}', "Missing required property 'target'."],
    ['an invocation with an empty target', '{"type":1,"target":"","arguments":[]}', "Missing required property 'target'."],
    ['an invocation with a numeric target', '{"type":1,"target":1,"arguments":[]}', "Expected 'target' to be of type String."],
    ['an invocation without arguments', '{"type":1,"target":"t"}', "Missing required property 'arguments'."],
    ['an object as arguments', '{"type":1,"target":"t","arguments":{}}', "Expected 'arguments' to be of type Array."],
    ['a numeric invocationId', '{"type":1,"invocationId":1,"target":"t","arguments":[]}', "Expected 'invocationId' to be of type String."],
    ['a null invocationId', '{"type":5,"invocationId":null}', "Expected 'invocationId' to be of type String."],
    ['a string as streamIds', '{"type":1,"target":"t","arguments":[],"streamIds":"1"}', "Expected 'streamIds' to be of type Array."],
    ['a null stream id', '{"type":1,"target":"t","arguments":[],"streamIds":[null]}', "Null value for 'streamIds' is not valid."],
    ['a numeric stream id', '{"type":1,"target":"t","arguments":[],"streamIds":[1]}', "Expected 'streamIds' items to be of type String."],
    ['an array as headers', '{"type":1,"target":"t","arguments":[],"headers":[]}', "Expected 'headers' to be of type StartObject."],
    ['a numeric header', '{"type":1,"target":"t","arguments":[],"headers":{"a":1}}', "Expected header 'a' to be of type String."],
    ['a stream invocation without invocationId', '{"type":4,"target":"t","arguments":[]}', "Missing required property 'invocationId'."],
    ['a stream invocation without target', '{"type":4,"invocationId":"1","arguments":[]}', "Missing required property 'target'."],
    ['a stream invocation without arguments', '{"type":4,"invocationId":"1","target":"t"}', "Missing required property 'arguments'."],
    ['a stream item without invocationId', '{"type":2,"item":1}', "Missing required property 'invocationId'."],
    ['a stream item without item', '{"type":2,"invocationId":"1"}', "Missing required property 'item'."],
    ['a completion without invocationId', '{"type":3,"result":1}', "Missing required property 'invocationId'."],
    ['a completion with an empty invocationId', '{"type":3,"invocationId":""}', "Missing required property 'invocationId'."],
    [
      'a completion with both error and result',
      '{"type":3,"invocationId":"1","error":"e","result":null}',
      "The 'error' and 'result' properties are mutually exclusive.",
    ],
    ['a numeric error', '{"type":3,"invocationId":"1","error":1}', "Expected 'error' to be of type String."],
    ['a cancel without invocationId', '{"type":5}', "Missing required property 'invocationId'."],
    ['a string allowReconnect', '{"type":7,"allowReconnect":"true"}', "Expected 'allowReconnect' to be true or false."],
    ['an ack without sequenceId', '{"type":8}', "Missing required property 'sequenceId'."],
    ['a null sequenceId', '{"type":9,"sequenceId":null}', "Missing required property 'sequenceId'."],
    ['a string sequenceId', '{"type":8,"sequenceId":"1"}', "Expected 'sequenceId' to be of type Number."],
    ['a fractional sequenceId', '{"type":9,"sequenceId":1.5}', "Expected 'sequenceId' to be of type Number."],
    ['a badly typed known property on an unknown type', '{"type":42,"target":5}', "Expected 'target' to be of type String."],
    ['nesting deeper than 64', `{"type":1,"target":"t","arguments":${'['.repeat(64)}${']'.repeat(64)}}`, 'Error reading JSON.'],
  ]

  it.each(cases)('refuses %s', (_name, payload, error) => {
    expect(parse(`${payload}\u001e`)).toEqual({ messages: [], error })
    expect(parse(encode(`${payload}\u001e`))).toEqual({ messages: [], error })
  })

  it('accepts nesting up to the .NET depth of 64', () => {
    const wire = `{"type":1,"target":"t","arguments":${'['.repeat(63)}${']'.repeat(63)}}\u001e`
    expect(parse(wire).error).toBeUndefined()
  })

  it('counts brackets inside strings as text, not nesting', () => {
    const wire = `{"type":1,"target":"t","arguments":["${'[{'.repeat(100)}\\"["]}\u001e`
    expect(parse(wire).messages).toHaveLength(1)
  })

  it('refuses bytes that are not UTF-8', () => {
    const bad = new Uint8Array([...encode('{"type":2,"invocationId":"1","item":"'), 0xff, ...encode('"}\u001e')])
    expect(parse(bad)).toEqual({ messages: [], error: 'Error reading JSON.' })
  })

  it('stops at the first bad frame and keeps the messages before it', () => {
    expect(parse('{"type":6}\u001e{"type":1}\u001e{"type":6}\u001e')).toEqual({
      messages: [{ type: 6 }],
      error: "Missing required property 'target'.",
    })
  })
})

describe('JsonHubProtocol.parseMessages: arbitrary input', () => {
  // A fixed-seed generator keeps the run reproducible; the pieces favour near-valid frames.
  const pieces = ['{', '}', '[', ']', '"', ':', ',', '\u001e', 'null', 'true', '1', '-2.5', '"type"', '"target"',
    '"arguments"', '"invocationId"', '"item"', '"result"', '"error"', '"headers"', '"streamIds"', '"sequenceId"',
    '6', '3', '\\', 'é', '\ud83d', '\ude00', ' ']
  let seed = 12345
  const next = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed % n
  }

  it('never throws and always returns messages, for text and bytes', () => {
    for (let run = 0; run < 3000; run++) {
      let input = ''
      const length = next(40)
      for (let i = 0; i < length; i++) input += pieces[next(pieces.length)]
      const bytes = encode(input).subarray(next(3))
      for (const chunk of [input, bytes]) {
        const result = parse(chunk, next(2) === 0 ? undefined : 1 + next(64))
        expect(Array.isArray(result.messages)).toBe(true)
      }
    }
  })
})

describe('JsonHubProtocol.parseMessages: frame sizes', () => {
  it('reports the size of each message frame, separator included, only when asked', () => {
    const input = '{"type":6}\u001e{"type":99}\u001e{"type":2,"invocationId":"1","item":"é"}\u001e{"type":6'
    expect(jsonHubProtocol.parseMessages(input).sizes).toBeUndefined()
    // The unknown type is skipped, its size with it; text counts UTF-16 code units, bytes count bytes.
    expect(jsonHubProtocol.parseMessages(input, { measure: true }).sizes).toEqual([11, 41])
    expect(jsonHubProtocol.parseMessages(new TextEncoder().encode(input), { measure: true }).sizes).toEqual([11, 42])
  })

  it('reports the sizes of the messages before an error', () => {
    expect(jsonHubProtocol.parseMessages('{"type":6}\u001e{"type":\u001e', { measure: true })).toMatchObject({ sizes: [11], error: expect.any(String) })
  })
})
