/**
 * Which hubs offline delivery serves: those that handle their own `im.<hub>.send.user` and whose
 * subject the capturing stream holds; the others are named with why, and a node with none refuses.
 */
import { describe, expect, it } from 'vitest'
import { ImErrorCode } from '../../../src/errors.js'
import { chooseOfflineHubs, refuseWithoutOfflineHubs } from '../../../src/server/offline-delivery.js'

const hub = (name: string, ...subjects: string[]) => ({ name, subscriptions: subjects.map((subject) => ({ subject, propertyKey: 'handle' })) })
const DEFAULT_SUBJECTS = ['im.default.send', 'im.default.send.>', 'im.default.groups.>']

describe('chooseOfflineHubs', () => {
  it('serves each hub that handles its user subject when the stream holds it, and says why it leaves out the others', () => {
    const hubs = [hub('default', 'im.default.send.user'), hub('inbox', 'im.inbox.send.*'), hub('chat', 'im.chat.send.room'), hub('news', 'im.news.send.user')]
    expect(chooseOfflineHubs(hubs, { subjects: [...DEFAULT_SUBJECTS, 'im.inbox.send.>'] })).toEqual({
      served: ['default', 'inbox'],
      left: [
        { hub: 'chat', reason: 'it has no @Subscribe handler of im.chat.send.user' },
        { hub: 'news', reason: 'jetstream.subjects (IM_JETSTREAM_SUBJECTS: im.default.send, im.default.send.>, im.default.groups.>, im.inbox.send.>) do not hold im.news.send.user' },
      ],
    })
  })

  it('refuses a node with offline delivery on and no hub to serve, and lets one with a hub start', () => {
    const offline = { enabled: true, ttlMs: 1000, maxPerUser: 1, stream: 'IM_OFFLINE', cursorBucket: 'c' }
    expect(() => refuseWithoutOfflineHubs([hub('chat', 'im.chat.send.room')], { subjects: DEFAULT_SUBJECTS, offline })).toThrow(
      expect.objectContaining({ code: ImErrorCode.ConfigInvalid, message: 'offline delivery (IM_OFFLINE_DELIVERY) has no hub to keep messages for (hub chat: it has no @Subscribe handler of im.chat.send.user)' }),
    )
    expect(() => refuseWithoutOfflineHubs([hub('chat', 'im.chat.send.room')], { subjects: DEFAULT_SUBJECTS, offline: { ...offline, enabled: false } })).not.toThrow()
    expect(() => refuseWithoutOfflineHubs([hub('chat', 'im.chat.send.user')], { subjects: ['im.*.send.user'], offline })).not.toThrow()
  })
})
