/** The ChatHub of the README's tour works as the README says. */
import { expect, it } from 'vitest'
import { ChatHub } from '../fixtures/hubs/chat-hub.js'
import { buildClient, connectClient, Inbox } from '../support/clients.js'
import { startNatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import { TEST_JWT_SECRET, tokenFor } from '../support/tokens.js'

it('joins a room, forwards what users say, and delivers what a service sends to the room', async () => {
  await using nats = await startNatsServer()
  await using server = await startTestServer({ natsUrl: nats.url, hubs: [ChatHub], config: { jwt: { secret: TEST_JWT_SECRET } } })
  await using service = await TestService.connect(nats.url)
  const url = server.hubUrl('/signalr-hubs/chat')

  await expect(buildClient(url).start()).rejects.toThrow("Status code '401'")
  await using alice = await connectClient(url, { accessToken: await tokenFor('alice') })
  await using bob = await connectClient(url, { accessToken: await tokenFor('bob') })
  const inbox = new Inbox(bob, 'message')
  await bob.invoke('join', 'room-1')

  const said = await service.listen('im.chat.messages')
  await alice.invoke('say', { room: 'room-1', text: 'hi all' })
  expect((await said.next()).json).toMatchObject({ hub: 'chat', method: 'say', args: [{ room: 'room-1', text: 'hi all' }], userId: 'alice' })
  await expect(alice.invoke('say', { room: 'room-1', text: 'x'.repeat(2001) })).rejects.toThrow('HubException: message too long')

  await service.publish('im.chat.send.room', { room: 'room-1', text: 'hi all', from: 'alice' })
  expect(await inbox.next()).toEqual([{ room: 'room-1', text: 'hi all', from: 'alice' }])
})
