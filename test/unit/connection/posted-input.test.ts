import { describe, expect, it } from 'vitest'
import { postedInput } from '../../../src/connection/posted-input.js'
import { JsonHubProtocol } from '../../../src/protocol/json-hub-protocol.js'
import { MessagePackHubProtocol } from '../../../src/protocol/messagepack-hub-protocol.js'

const json = { isConnected: true, protocol: new JsonHubProtocol() } as const
const messagepack = { isConnected: true, protocol: new MessagePackHubProtocol() } as const
const handshaking = {
  isConnected: false,
  get protocol(): never {
    throw new Error('the handshake has not completed')
  },
} as const

describe('postedInput', () => {
  it('hands a MessagePack connection the bytes as they are', () => {
    const body = Buffer.from([0x02, 0x91, 0x06, 0xc3, 0x28, 0xff])
    expect(postedInput(body, messagepack)).toBe(body)
  })

  it('hands the handshake over as bytes: binary frames may follow its JSON in the same body', () => {
    const body = Buffer.concat([Buffer.from('{"protocol":"messagepack","version":1}\u001e'), Buffer.from([0x02, 0x91, 0x06])])
    expect(postedInput(body, handshaking)).toBe(body)
  })

  it('hands a JSON connection text', () => {
    expect(postedInput(Buffer.from('{"type":6}\u001e✓'), json)).toBe('{"type":6}\u001e✓')
  })

  it('keeps bytes that are not UTF-8, or end inside a character, as bytes for a JSON connection', () => {
    const invalid = Buffer.from([0x7b, 0xc3, 0x28, 0x7d])
    expect(postedInput(invalid, json)).toBe(invalid)
    const cut = Buffer.from('✓').subarray(0, 2)
    expect(postedInput(cut, json)).toBe(cut)
  })
})
