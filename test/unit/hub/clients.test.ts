import { describe, expect, it } from 'vitest'
import { createGroupManager, createHubClients } from '../../../src/hub/clients.js'
import type { ClientProxy, HubClients } from '../../../src/hub/clients.js'
import type { Delivery, DeliveryTarget, GroupChange } from '../../../src/lifetime/delivery.js'

/** A Delivery that records what it is asked to do. */
function recordingDelivery() {
  const sends: Array<{ target: DeliveryTarget; method: string; args: readonly unknown[] }> = []
  const changes: GroupChange[] = []
  const delivery: Delivery = {
    send: async (target, method, args) => void sends.push({ target, method, args }),
    changeGroup: async (change) => void changes.push(change),
  }
  return { delivery, sends, changes }
}

describe('createHubClients', () => {
  const cases: Array<[string, (clients: HubClients) => ClientProxy, DeliveryTarget]> = [
    ['all', (c) => c.all, { kind: 'all' }],
    ['allExcept', (c) => c.allExcept(['x', 'y']), { kind: 'all', except: ['x', 'y'] }],
    ['client', (c) => c.client('x'), { kind: 'connections', ids: ['x'] }],
    ['clients', (c) => c.clients(['x', 'y']), { kind: 'connections', ids: ['x', 'y'] }],
    ['user', (c) => c.user('alice'), { kind: 'users', ids: ['alice'] }],
    ['users', (c) => c.users(['alice', 'bob']), { kind: 'users', ids: ['alice', 'bob'] }],
    ['group', (c) => c.group('room'), { kind: 'groups', names: ['room'] }],
    ['groups', (c) => c.groups(['one', 'two']), { kind: 'groups', names: ['one', 'two'], except: undefined }],
    ['groups with except', (c) => c.groups(['one', 'two'], ['x']), { kind: 'groups', names: ['one', 'two'], except: ['x'] }],
    ['groupExcept', (c) => c.groupExcept('room', ['x']), { kind: 'groups', names: ['room'], except: ['x'] }],
    ['caller', (c) => c.caller, { kind: 'connections', ids: ['me'] }],
    ['others', (c) => c.others, { kind: 'all', except: ['me'] }],
    ['othersInGroup', (c) => c.othersInGroup('room'), { kind: 'groups', names: ['room'], except: ['me'] }],
  ]

  it.each(cases)('%s sends to the matching target with the method and arguments', async (_, pick, target) => {
    const { delivery, sends } = recordingDelivery()
    await pick(createHubClients(delivery, 'me')).send('notify', 'text', 2, { x: 1 })
    expect(sends).toEqual([{ target, method: 'notify', args: ['text', 2, { x: 1 }] }])
  })

  it('sends an empty argument list when given no arguments', async () => {
    const { delivery, sends } = recordingDelivery()
    await createHubClients(delivery).all.send('ping')
    expect(sends[0]!.args).toEqual([])
  })

  it('passes on a failed delivery to the caller of send', async () => {
    const delivery: Delivery = {
      send: () => Promise.reject(new Error('bus down')),
      changeGroup: async () => {},
    }
    await expect(createHubClients(delivery).all.send('m')).rejects.toThrow('bus down')
  })

  it.each([
    ['caller', (c: HubClients) => c.caller],
    ['others', (c: HubClients) => c.others],
    ['othersInGroup', (c: HubClients) => c.othersInGroup('room')],
  ])('refuses %s outside a client invocation, saying where it works', (what, pick) => {
    const { delivery, sends } = recordingDelivery()
    expect(() => pick(createHubClients(delivery))).toThrow(
      expect.objectContaining({ code: 'IM_INVALID_OPERATION', message: `clients.${what} is only available inside a hub method invoked by a client` }),
    )
    expect(sends).toEqual([])
  })

  it('still offers the other targets outside a client invocation', async () => {
    const { delivery, sends } = recordingDelivery()
    const clients = createHubClients(delivery)
    await clients.group('room').send('m')
    expect(sends.map((s) => s.target)).toEqual([{ kind: 'groups', names: ['room'] }])
  })
})

describe('createGroupManager', () => {
  it('turns each call into a group change by connection or by user', async () => {
    const { delivery, changes } = recordingDelivery()
    const groups = createGroupManager(delivery)
    await groups.addToGroup('c1', 'room')
    await groups.removeFromGroup('c1', 'room')
    await groups.addUserToGroup('alice', 'room')
    await groups.removeUserFromGroup('alice', 'room')
    expect(changes).toEqual([
      { op: 'add', group: 'room', connectionId: 'c1' },
      { op: 'remove', group: 'room', connectionId: 'c1' },
      { op: 'add', group: 'room', userId: 'alice' },
      { op: 'remove', group: 'room', userId: 'alice' },
    ])
  })
})
