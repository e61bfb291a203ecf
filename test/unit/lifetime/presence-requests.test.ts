/** Reading presence requests and adding up the nodes' parts: exact errors, exact answers. */
import { describe, expect, it } from 'vitest'
import { combine } from '../../../src/lifetime/presence/local-presence.js'
import { parseDisconnect, parseGroupQuery, parseUserQuery, parseUsersQuery } from '../../../src/lifetime/presence/presence-requests.js'

const bytes = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value))

describe('presence requests', () => {
  it('reads each request, property names ignoring case', () => {
    expect(parseUserQuery(bytes({ UserId: 'alice' }))).toEqual({ ok: { kind: 'user', userId: 'alice' } })
    expect(parseUsersQuery(bytes({ userIds: ['a', 'b'] }))).toEqual({ ok: { kind: 'users', userIds: ['a', 'b'] } })
    expect(parseGroupQuery(bytes({ group: 'room-1' }))).toEqual({ ok: { kind: 'group', group: 'room-1' } })
  })

  it.each([
    [new Uint8Array([0xff, 0xfe]), 'the request is not UTF-8 JSON'],
    ['null', 'the request must be a JSON object'],
    [{ userId: 'x'.repeat(1025) }, '"userId" is longer than 1024 characters'],
  ])('refuses %j with %j', (payload, error) => {
    expect(parseUserQuery(payload instanceof Uint8Array ? payload : bytes(payload))).toEqual({ error })
  })

  it('reads a disconnect with every kind of target, and refuses one with none or too many', () => {
    expect(parseDisconnect(bytes({ userId: 'a', userIds: ['b'], connectionId: 'c', connectionIds: ['d'], reason: 'banned' }))).toEqual({
      ok: { userIds: ['a', 'b'], connectionIds: ['c', 'd'], reason: 'banned' },
    })
    expect(parseDisconnect(bytes({ userId: 'a', reason: '' }))).toEqual({ ok: { userIds: ['a'], connectionIds: [], reason: undefined } })
    expect(parseDisconnect(bytes({ reason: 'x' }))).toEqual({ error: 'one of "userId", "userIds", "connectionId" or "connectionIds" is required' })
    const many = Array.from({ length: 600 }, (_, i) => `id${i}`)
    expect(parseDisconnect(bytes({ userIds: many, connectionIds: many }))).toEqual({ error: 'at most 1000 users and connections may be named at once' })
    expect(parseDisconnect(bytes({ userId: 'a', reason: 'r'.repeat(2000) }))).toMatchObject({ ok: { reason: 'r'.repeat(1024) } })
  })
})

describe('combine', () => {
  it('answers each distinct id once, in the order asked, adding up the nodes', () => {
    const answer = combine({ kind: 'users', userIds: ['b', 'a', 'b', 'z'] }, [
      { kind: 'users', counts: { a: 1, b: 2 } },
      { kind: 'users', counts: { a: 3 } },
    ])
    expect(answer).toEqual({ users: [{ userId: 'b', online: true, connections: 2 }, { userId: 'a', online: true, connections: 4 }, { userId: 'z', online: false, connections: 0 }] })
  })

  it('lists a group\'s users once, sorted, and counts every connection', () => {
    const answer = combine({ kind: 'group', group: 'g' }, [
      { kind: 'group', connections: 3, users: ['eve', 'bob'] },
      { kind: 'group', connections: 2, users: ['bob'] },
    ])
    expect(answer).toEqual({ group: 'g', connections: 5, users: ['bob', 'eve'] })
  })
})

describe('group answers', () => {
  it('list at most 10,000 users and say when there are more', () => {
    const many = (from: number) => Array.from({ length: 6000 }, (_, i) => `user-${String(from + i).padStart(6, '0')}`)
    const answer = combine({ kind: 'group', group: 'big' }, [
      { kind: 'group', connections: 6000, users: many(0) },
      { kind: 'group', connections: 6000, users: many(6000) },
    ])
    expect(answer).toMatchObject({ group: 'big', connections: 12000, usersTruncated: true })
    expect('users' in answer && answer.users.length).toBe(10000)
    expect(combine({ kind: 'group', group: 'small' }, [{ kind: 'group', connections: 1, users: ['a'] }])).toEqual({ group: 'small', connections: 1, users: ['a'] })
  })
})
