import { describe, expect, it } from 'vitest'
import { formatEvent } from '../../../src/transports/server-sent-events-transport.js'

describe('formatEvent', () => {
  it('sends a payload without line feeds as one data line and a blank line', () => {
    expect(formatEvent('{"type":6}\u001e')).toBe('data: {"type":6}\u001e\r\n\r\n')
  })

  it('splits a payload with line feeds into data lines, trimming a carriage return before each feed', () => {
    expect(formatEvent('a\r\nb\nc')).toBe('data: a\r\ndata: b\r\ndata: c\r\n\r\n')
  })
})
