import { describe, expect, it } from 'vitest'
import { hostPort, parseNatsServers } from '../../../src/bus/nats-connect.js'

describe('parseNatsServers', () => {
  it('splits a comma separated list and adds the nats scheme where missing', () => {
    expect(parseNatsServers(' nats://a:4222, b:4223 ,,')).toEqual({
      urls: ['nats://a:4222', 'nats://b:4223'],
      display: 'nats://a:4222,nats://b:4223',
      user: undefined,
      pass: undefined,
      token: undefined,
      tls: false,
    })
  })

  it('lifts user and password out of the URL', () => {
    const parsed = parseNatsServers('nats://svc%40im:p%3Ass@host:4222')
    expect(parsed).toMatchObject({ user: 'svc@im', pass: 'p:ss', display: 'nats://host:4222' })
  })

  it('reads a lone userinfo as a token', () => {
    expect(parseNatsServers('tls://t0ken@host:4222')).toMatchObject({ token: 't0ken', display: 'tls://host:4222', tls: true })
  })

  it('returns undefined when no server is named', () => {
    expect(parseNatsServers(' , ')).toBeUndefined()
  })

  it('gives the host:port nats.js reports', () => {
    expect(hostPort('nats://127.0.0.1:4222')).toBe('127.0.0.1:4222')
    expect(hostPort('host:1')).toBe('host:1')
  })
})
