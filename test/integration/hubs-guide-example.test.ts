// test/chat-hub.test.ts: the ChatHub above, driven by the official client through a real node
import * as signalR from '@microsoft/signalr'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { resolveConfig, startServer } from 'imservice'
import type { ImServer } from 'imservice'
import { ChatHub } from '../fixtures/hubs/guide-chat-hub.js'

const secret = 'a-test-secret-of-at-least-32-bytes!'
let server: ImServer

beforeAll(async () => {
  // Loopback, a free port, and `{}` as the environment so that no IM_* variable of the machine
  // changes the test. No NATS is named: the node runs on its embedded bus (or uses a NATS that
  // answers at nats://127.0.0.1:4222), and server.bus plays the services.
  const config = resolveConfig({ host: '127.0.0.1', port: 0, jwt: { secret } }, {})
  server = await startServer({ config, hubs: [ChatHub] })
})
afterAll(() => server?.close())

async function connect(userId: string): Promise<signalR.HubConnection> {
  const token = await new SignJWT().setProtectedHeader({ alg: 'HS256' }).setSubject(userId).setExpirationTime('5m').sign(new TextEncoder().encode(secret))
  const connection = new signalR.HubConnectionBuilder()
    .withUrl(`${server.url}/signalr-hubs/chat`, { accessTokenFactory: () => token })
    .configureLogging(signalR.LogLevel.None)
    .build()
  await connection.start()
  return connection
}

const json = (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data))

it('forwards what a user says, refuses a long message and delivers what a service sends to the room', async () => {
  const bob = await connect('bob')
  try {
    const received = new Promise((resolve) => bob.on('message', resolve))
    await bob.invoke('join', 'room-1')

    const forwarded = new Promise((resolve) => server.bus.subscribe('im.chat.messages', (message) => resolve(json(message.data))))
    await server.bus.ready()
    await bob.invoke('say', { room: 'room-1', text: 'hi' })
    await expect(forwarded).resolves.toMatchObject({ hub: 'chat', method: 'say', args: [{ room: 'room-1', text: 'hi' }], userId: 'bob' })
    await expect(bob.invoke('say', { room: 'room-1', text: 'x'.repeat(2001) })).rejects.toThrow('HubException: message too long')

    await server.bus.publish('im.chat.send.room', new TextEncoder().encode(JSON.stringify({ room: 'room-1', text: 'hello' })))
    await expect(received).resolves.toEqual({ room: 'room-1', text: 'hello' })
  } finally {
    await bob.stop()
  }
})

it('asks the caller before leaving (a client result)', async () => {
  const bob = await connect('bob')
  try {
    bob.on('confirmLeave', (room: string) => room === 'room-1')
    await expect(bob.invoke('leave', 'room-1')).resolves.toBe(true)
    await expect(bob.invoke('leave', 'room-2')).resolves.toBe(false)
  } finally {
    await bob.stop()
  }
})

it('refuses anonymous connections', async () => {
  const anonymous = new signalR.HubConnectionBuilder().withUrl(`${server.url}/signalr-hubs/chat`).configureLogging(signalR.LogLevel.None).build()
  await expect(anonymous.start()).rejects.toThrow("Status code '401'")
})
