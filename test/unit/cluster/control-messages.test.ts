import { describe, expect, it } from 'vitest'
import type { MoveState } from '../../../src/connection/connection-move.js'
import {
  decodeClaimAnswer,
  decodeRelayedResponse,
  decodeRequest,
  decodeTakeAnswer,
  encodeClaimAnswer,
  encodeRelayedResponse,
  encodeRequest,
  encodeTakeAnswer,
} from '../../../src/cluster/control-messages.js'
import type { ClaimAnswer, ControlRequest, Decoded, TakeAnswer } from '../../../src/cluster/control-messages.js'

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
const bytes = (value: string): Uint8Array => new TextEncoder().encode(value)
const ok = <T>(value: T): Decoded<T> => ({ ok: true, value })
const bad = (reason: string): Decoded<never> => ({ ok: false, reason })

const TOKEN = 'AAAAAAtoken-random-part-22c'
const state: MoveState = {
  buffer: {
    sent: 7,
    received: 3,
    frames: [
      { id: 6, frame: '{"type":1,"target":"a","arguments":[1]}\u001e', shared: true },
      { id: 7, frame: new Uint8Array([0x05, 0x95, 0x01, 0x80, 0xc0]), shared: false },
    ],
  },
  mark: 5,
  groups: ['g1', 'g2'],
  streams: ['4'],
}

describe('control messages: requests', () => {
  const requests: ControlRequest[] = [
    { kind: 'claim', token: TOKEN, by: 'BBBBBB', opening: true, resume: false, userId: 'alice', anyone: false },
    { kind: 'claim', token: TOKEN, by: 'BBBBBB', opening: false, resume: true, userId: undefined, anyone: true },
    { kind: 'http', request: { method: 'POST', url: '/hub?id=x', headers: { accept: '*/*' }, body: 'AQID' } },
    { kind: 'take', token: TOKEN, by: 'B_-9zz' },
    { kind: 'held', token: TOKEN, by: 'BBBBBB' },
    { kind: 'ended', token: TOKEN },
  ]
  it.each(requests)('a $kind request comes back the same', (request) => {
    expect(decodeRequest(encodeRequest(request))).toEqual(ok(request))
  })

  // Nodes of the previous version send and read exactly these: a rolling upgrade mixes versions.
  it.each([
    [
      { kind: 'claim', token: TOKEN, by: 'BBBBBB', opening: true, resume: true, userId: undefined, anyone: false },
      `{"op":"claim","token":"${TOKEN}","by":"BBBBBB","opening":true,"resume":true,"userId":null,"anyone":false}`,
    ],
    [{ kind: 'take', token: TOKEN, by: 'BBBBBB' }, `{"op":"take","token":"${TOKEN}","by":"BBBBBB"}`],
    [{ kind: 'held', token: TOKEN, by: 'BBBBBB' }, `{"op":"held","token":"${TOKEN}","by":"BBBBBB"}`],
    [{ kind: 'ended', token: TOKEN }, `{"op":"ended","token":"${TOKEN}"}`],
  ] as const)('keeps the wire form of %j', (request, wire) => {
    expect(text(encodeRequest(request))).toBe(wire)
  })

  it('reads a claim sent to one node without "anyone"', () => {
    const wire = `{"op":"claim","token":"${TOKEN}","by":"BBBBBB","opening":false,"resume":false,"userId":"bob"}`
    expect(decodeRequest(bytes(wire))).toEqual(ok({ kind: 'claim', token: TOKEN, by: 'BBBBBB', opening: false, resume: false, userId: 'bob', anyone: false }))
  })

  const claim = { op: 'claim', token: TOKEN, by: 'BBBBBB', opening: true, resume: false, userId: null }
  const http = { op: 'http', request: { method: 'GET', url: '/hub?id=x', headers: {}, body: '' } }
  it.each([
    ['bytes that are not UTF-8', new Uint8Array([0x7b, 0xff, 0x7d]), 'not UTF-8'],
    ['text that is not JSON', bytes('{"op":'), 'not JSON'],
    ['an array', bytes('[]'), 'request is not a JSON object'],
    ['null', bytes('null'), 'request is not a JSON object'],
    ['no op', bytes('{}'), 'request: "op" is not a string'],
    ['an unknown op', bytes('{"op":"steal"}'), 'request: unknown op "steal"'],
    ['a claim without a token', bytes(JSON.stringify({ ...claim, token: undefined })), 'claim: "token" is not a non-empty string'],
    ['a claim with an empty token', bytes(JSON.stringify({ ...claim, token: '' })), 'claim: "token" is not a non-empty string'],
    ['a claim from a tag that is no subject token', bytes(JSON.stringify({ ...claim, by: 'a.b>cd' })), 'claim: "by" is not a node tag'],
    ['a claim from a tag of the wrong length', bytes(JSON.stringify({ ...claim, by: 'BBBBBBB' })), 'claim: "by" is not a node tag'],
    ['a claim whose "opening" is a string', bytes(JSON.stringify({ ...claim, opening: 'yes' })), 'claim: "opening" is not a boolean'],
    ['a claim without "resume"', bytes(JSON.stringify({ ...claim, resume: undefined })), 'claim: "resume" is not a boolean'],
    ['a claim whose user is a number', bytes(JSON.stringify({ ...claim, userId: 7 })), 'claim: "userId" is neither a string nor null'],
    ['a claim whose "anyone" is 1', bytes(JSON.stringify({ ...claim, anyone: 1 })), 'claim: "anyone" is not a boolean'],
    ['an http request without a request', bytes('{"op":"http"}'), 'http: request is not a JSON object'],
    ['an http request to a full URL', bytes(JSON.stringify({ op: 'http', request: { ...http.request, url: 'http://x/' } })), 'http: request: "url" is not a path'],
    ['an http request without a method', bytes(JSON.stringify({ op: 'http', request: { ...http.request, method: '' } })), 'http: request: "method" is not a non-empty string'],
    ['an http request with a numeric header', bytes(JSON.stringify({ op: 'http', request: { ...http.request, headers: { accept: 1 } } })), 'http: request: "headers" has a value that is not a string'],
    ['an http request with headers as a list', bytes(JSON.stringify({ op: 'http', request: { ...http.request, headers: [] } })), 'http: request: "headers" is not a JSON object'],
    ['an http request whose body is not base64', bytes(JSON.stringify({ op: 'http', request: { ...http.request, body: 'a b' } })), 'http: request: "body" is not base64'],
    ['a take without "by"', bytes(`{"op":"take","token":"${TOKEN}"}`), 'take: "by" is not a node tag'],
    ['a held with a wildcard tag', bytes(`{"op":"held","token":"${TOKEN}","by":"*"}`), 'held: "by" is not a node tag'],
    ['an ended whose token is a number', bytes('{"op":"ended","token":5}'), 'ended: "token" is not a non-empty string'],
  ])('refuses %s, saying why', (_what, wire, reason) => {
    expect(decodeRequest(wire)).toEqual(bad(reason))
  })

  it('cuts a long unknown op short in the reason', () => {
    const decoded = decodeRequest(bytes(JSON.stringify({ op: 'x'.repeat(1000) })))
    expect(decoded).toEqual(bad(`request: unknown op "${'x'.repeat(32)}"`))
  })
})

describe('control messages: answers', () => {
  const claimAnswers: ClaimAnswer[] = [
    { kind: 'handover', connectionId: 'AAAAAAid', userId: 'alice', statefulReconnect: true },
    { kind: 'handover', connectionId: 'AAAAAAid', userId: undefined, statefulReconnect: false },
    { kind: 'held-by', holder: 'CCCCCC' },
    { kind: 'offer', offer: { connectionId: 'AAAAAAid', protocol: 'messagepack', groups: ['g'] }, holder: 'CCCCCC' },
    { kind: 'forbidden' },
    { kind: 'unknown' },
  ]
  it.each(claimAnswers)('a $kind claim answer comes back the same', (answer) => {
    expect(decodeClaimAnswer(encodeClaimAnswer(answer))).toEqual(ok(answer))
  })

  it.each([
    [{ kind: 'held-by', holder: 'CCCCCC' }, '{"holder":"CCCCCC"}'],
    [{ kind: 'unknown' }, '{"unknown":true}'],
    [{ kind: 'forbidden' }, '{"forbidden":true}'],
    [{ kind: 'handover', connectionId: 'id', userId: undefined, statefulReconnect: true }, '{"handover":{"connectionId":"id","userId":null,"statefulReconnect":true}}'],
    [{ kind: 'offer', offer: { connectionId: 'id', protocol: 'json', groups: [] }, holder: 'CCCCCC' }, '{"offer":{"connectionId":"id","protocol":"json","groups":[]},"holder":"CCCCCC"}'],
  ] as const)('keeps the wire form of claim answer %j', (answer, wire) => {
    expect(text(encodeClaimAnswer(answer))).toBe(wire)
  })

  it.each([
    ['an empty object', '{}', 'claim answer: none of "unknown", "forbidden", "handover", "offer", "holder"'],
    ['a holder that is no tag', '{"holder":"a.b.c."}', 'claim answer: "holder" is not a node tag'],
    ['a handover that is a string', '{"handover":"x"}', 'claim answer: "handover" is not a JSON object'],
    ['a handover without a connection id', '{"handover":{"userId":null,"statefulReconnect":true}}', 'claim answer: handover: "connectionId" is not a non-empty string'],
    ['an offer without a protocol', '{"offer":{"connectionId":"id","groups":[]},"holder":"CCCCCC"}', 'claim answer: offer: "protocol" is not a non-empty string'],
    ['an offer with a numeric group', '{"offer":{"connectionId":"id","protocol":"json","groups":[1]},"holder":"CCCCCC"}', 'claim answer: offer: "groups" is not an array of strings'],
    ['an offer without a holder', '{"offer":{"connectionId":"id","protocol":"json","groups":[]}}', 'claim answer: "holder" is not a node tag'],
  ])('refuses a claim answer that is %s', (_what, wire, reason) => {
    expect(decodeClaimAnswer(bytes(wire))).toEqual(bad(reason))
  })

  const takeAnswers: TakeAnswer[] = [{ kind: 'state', state }, { kind: 'unknown' }]
  it.each(takeAnswers)('a $kind take answer comes back the same, binary frames included', (answer) => {
    expect(decodeTakeAnswer(encodeTakeAnswer(answer))).toEqual(ok(answer))
  })

  const wireState = JSON.parse(text(encodeTakeAnswer({ kind: 'state', state }))) as Record<string, unknown>
  it.each([
    ['without frames', { ...wireState, frames: undefined }, 'take answer: "frames" is not an array'],
    ['with a frame of two items', { ...wireState, frames: [[1, 'x']] }, 'take answer: frames[0] is not [id, frame, shared]'],
    ['with a negative frame id', { ...wireState, frames: [[-1, 'x', 1]] }, 'take answer: frames[0]: the id is not a count'],
    ['with "shared" 2', { ...wireState, frames: [[1, 'x', 2]] }, 'take answer: frames[0]: "shared" is not 0 or 1'],
    ['with a numeric frame', { ...wireState, frames: [[1, 'x', 1], [2, 42, 1]] }, 'take answer: frames[1]: the frame is not a JSON object'],
    ['with a binary frame that is not base64', { ...wireState, frames: [[1, { b: '%%' }, 0]] }, 'take answer: frames[0]: the frame is neither text nor { b: base64 }'],
    ['with a negative "sent"', { ...wireState, sent: -1 }, 'take answer: "sent" is not a count'],
    ['with a fractional mark', { ...wireState, mark: 1.5 }, 'take answer: "mark" is not a count'],
    ['with streams as a string', { ...wireState, streams: 'x' }, 'take answer: "streams" is not an array of strings'],
    ['with a numeric group', { ...wireState, groups: [7] }, 'take answer: "groups" is not an array of strings'],
  ])('refuses a take answer %s', (_what, wire, reason) => {
    expect(decodeTakeAnswer(bytes(JSON.stringify(wire)))).toEqual(bad(reason))
  })

  it('carries a relayed response back the same', () => {
    const response = { status: 202, headers: { 'content-type': 'text/plain' }, body: 'aGk=' }
    expect(decodeRelayedResponse(encodeRelayedResponse(response))).toEqual(ok(response))
  })

  it.each([
    ['a status below 100', '{"status":42,"headers":{},"body":""}', 'relayed response: "status" is not an HTTP status'],
    ['a status as text', '{"status":"200","headers":{},"body":""}', 'relayed response: "status" is not an HTTP status'],
    ['no headers', '{"status":200,"body":""}', 'relayed response: "headers" is not a JSON object'],
    ['a body that is not base64', '{"status":200,"headers":{},"body":"abc"}', 'relayed response: "body" is not base64'],
  ])('refuses a relayed response with %s', (_what, wire, reason) => {
    expect(decodeRelayedResponse(bytes(wire))).toEqual(bad(reason))
  })
})

describe('control messages: untrusted bytes', () => {
  it('never throws, whatever arrives', () => {
    // A fixed seed: the same inputs on every run.
    let seed = 42
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    const pieces = ['{', '}', '[', ']', '"op"', ':', ',', '"claim"', '"take"', '"http"', 'null', '1', '-1', '"', 'true', '"frames"', '"b"', '\\u0000']
    const decoders = [decodeRequest, decodeClaimAnswer, decodeTakeAnswer, decodeRelayedResponse]
    for (let i = 0; i < 2000; i++) {
      const input = i % 2 === 0
        ? bytes(Array.from({ length: next() % 24 }, () => pieces[next() % pieces.length]).join(''))
        : new Uint8Array(Array.from({ length: next() % 32 }, () => next() % 256))
      for (const decode of decoders) {
        const decoded = decode(input) as Decoded<unknown>
        expect(typeof decoded.ok).toBe('boolean')
      }
    }
  })
})
