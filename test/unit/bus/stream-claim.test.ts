/**
 * The text of a stream conflict when several streams hold our subjects, and which servers take
 * several filter subjects on one consumer. The single-stream cases run against a real nats-server
 * in test/integration/cap-stream.test.ts.
 */
import type { StreamInfo } from '@nats-io/jetstream'
import { describe, expect, it } from 'vitest'
import { conflictMessage, supportsFilterSubjects } from '../../../src/bus/stream-claim.js'

function stream(name: string, subjects: string[], storage = 'memory'): StreamInfo {
  return { config: { name, subjects, storage } } as unknown as StreamInfo
}

describe('conflictMessage', () => {
  it('names every stream holding our subjects and only offers to take them out when there are several', () => {
    const message = conflictMessage('IMSERVICE', ['im.default.send', 'im.default.groups.>'], [
      stream('im', ['im.default.send', 'im.default.receive.orders.created']),
      stream('GROUPS', ['im.default.groups.add'], 'file'),
    ])
    expect(message).toBe(
      'JetStream stream IMSERVICE does not exist and cannot be created: NATS lets no two streams hold one subject, and ' +
        'stream im (memory storage) holds im.default.send; stream GROUPS (file storage) holds im.default.groups.add, ' +
        'while IMService takes im.default.send, im.default.groups.>. IMService will not change a stream it did not create, nor take these subjects from core NATS instead. Change one thing and start again:\n' +
        "- if no DotNetCore.CAP subscriber (or other consumer) still reads these subjects from stream im, remove them from it: nats stream edit im --subjects 'im.default.receive.orders.created'\n" +
        '- if no DotNetCore.CAP subscriber (or other consumer) still reads stream GROUPS, remove it: nats stream rm GROUPS',
    )
  })
})

describe('supportsFilterSubjects', () => {
  it('is true from nats-server 2.10 on', () => {
    expect(['2.9.10', '2.10.0', 'v2.10.14', '3.0.0', '', undefined].map((v) => supportsFilterSubjects(v))).toEqual([false, true, true, true, false, false])
  })
})
