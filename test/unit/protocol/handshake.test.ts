import { describe, expect, it } from 'vitest'
import { HandshakeError, parseHandshakeRequest, writeHandshakeResponse } from '../../../src/protocol/handshake.js'

const encode = (text: string): Uint8Array => new TextEncoder().encode(text)

describe('parseHandshakeRequest', () => {
  it.each([
    ['the JS client request', '{"protocol":"json","version":1}\u001e', 'json', 1],
    ['a stateful-reconnect request', '{"protocol":"json","version":2}\u001e', 'json', 2],
    ['a msgpack request', '{"protocol":"messagepack","version":1}\u001e', 'messagepack', 1],
    ['properties in any order, unknown ones ignored', '{"x":[1],"version":1,"protocol":"json","minor":0}\u001e', 'json', 1],
    ['white space inside', '{ "protocol" : "json", "version" : 1 }\u001e', 'json', 1],
  ])('reads %s', (_name, wire, protocol, version) => {
    expect(parseHandshakeRequest(wire)).toEqual({ kind: 'request', protocol, version })
    expect(parseHandshakeRequest(encode(wire))).toEqual({ kind: 'request', protocol, version })
  })

  it('returns what follows the separator as rest, with the type of the input', () => {
    const wire = '{"protocol":"json","version":1}\u001e{"type":6}\u001e'
    expect(parseHandshakeRequest(wire)).toEqual({ kind: 'request', protocol: 'json', version: 1, rest: '{"type":6}\u001e' })
    const bytes = parseHandshakeRequest(encode(wire))
    expect(bytes.kind === 'request' && bytes.rest).toEqual(encode('{"type":6}\u001e'))
  })

  it('is incomplete until the separator arrives, also when the request comes in pieces', () => {
    expect(parseHandshakeRequest('')).toEqual({ kind: 'incomplete' })
    expect(parseHandshakeRequest('{"protocol": "json"')).toEqual({ kind: 'incomplete' })
    expect(parseHandshakeRequest(encode('{"protocol": "json","version": 1}'))).toEqual({ kind: 'incomplete' })
    expect(parseHandshakeRequest('{"protocol": "json"' + ',"version": 1}' + '\u001e')).toMatchObject({ kind: 'request' })
  })

  it.each([
    ['malformed JSON', '{"protocol":', 'Error reading JSON.'],
    ['an array', '[]', "Unexpected JSON Token Type 'Array'. Expected a JSON Object."],
    ['a missing protocol', '{"version":1}', "Missing required property 'protocol'."],
    ['a missing version', '{"protocol":"json"}', "Missing required property 'version'."],
    ['a null version', '{"protocol":"json","version":null}', "Missing required property 'version'."],
    ['a numeric protocol', '{"protocol":1,"version":1}', "Expected 'protocol' to be of type String."],
    ['a string version', '{"protocol":"json","version":"1"}', "Expected 'version' to be of type Number."],
    ['a fractional version', '{"protocol":"json","version":1.5}', "Expected 'version' to be of type Number."],
  ])('refuses %s as malformed', (_name, payload, detail) => {
    expect(parseHandshakeRequest(`${payload}\u001e`)).toEqual({ kind: 'error', reason: 'malformed', detail })
    expect(parseHandshakeRequest(encode(`${payload}\u001e`))).toEqual({ kind: 'error', reason: 'malformed', detail })
  })

  it('refuses a request whose payload and separator exceed maxSize, finished or not', () => {
    const wire = '{"protocol":"json","version":1}\u001e' // 32 bytes with the separator
    expect(parseHandshakeRequest(wire, 32)).toMatchObject({ kind: 'request' })
    expect(parseHandshakeRequest(wire, 31)).toMatchObject({ kind: 'error', reason: 'too-large' })
    expect(parseHandshakeRequest(encode(wire), 31)).toMatchObject({ kind: 'error', reason: 'too-large' })
    expect(parseHandshakeRequest('{"protocol":"json","versi', 10)).toMatchObject({ kind: 'error', reason: 'too-large' })
    expect(parseHandshakeRequest('{"protocol"', 100)).toEqual({ kind: 'incomplete' })
  })
})

describe('writeHandshakeResponse', () => {
  it('writes {} plus the separator on success', () => {
    expect(writeHandshakeResponse()).toBe('{}\u001e')
    expect(writeHandshakeResponse('')).toBe('{}\u001e')
  })

  it('writes the error with JSON escaping', () => {
    expect(writeHandshakeResponse(HandshakeError.unsupportedProtocol('x"y'))).toBe(
      '{"error":"The protocol \'x\\"y\' is not supported."}\u001e',
    )
  })
})

describe('HandshakeError', () => {
  it('has the texts of the .NET server', () => {
    expect(HandshakeError.unsupportedProtocol('foo')).toBe("The protocol 'foo' is not supported.")
    expect(HandshakeError.unsupportedVersion('json', 3)).toBe("The server does not support version 3 of the 'json' protocol.")
    expect(HandshakeError.unsupportedTransferFormat('messagepack')).toBe(
      "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format.",
    )
    expect(HandshakeError.canceled).toBe('Handshake was canceled.')
    expect(HandshakeError.unexpected).toBe('An unexpected error occurred during connection handshake.')
  })
})
