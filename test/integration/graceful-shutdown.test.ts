/**
 * Graceful shutdown of one node of two behind a load balancer: its clients get what was queued
 * for them, then a Close that lets them reconnect, and they go on on the other node.
 */
import * as signalR from '@microsoft/signalr'
import { expect, it } from 'vitest'
import { DefaultHub } from '../../hubs/default-hub.js'
import { Inbox, withTimeout } from '../support/clients.js'
import { startNatsServer } from '../support/nats-server.js'
import { startTestServer } from '../support/im-server.js'
import { TestService } from '../support/service.js'
import { startTcpBalancer } from '../support/tcp-balancer.js'

it('drains a closing node: queued messages arrive, clients reconnect to the other node', async () => {
  await using nats = await startNatsServer()
  const a = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId: 'drain-a' } })
  await using b = await startTestServer({ natsUrl: nats.url, hubs: [DefaultHub], config: { nodeId: 'drain-b' } })
  await using balancer = await startTcpBalancer([a, b])
  await using service = await TestService.connect(nats.url)

  const client = new signalR.HubConnectionBuilder()
    .withUrl(`${balancer.url}/signalr-hubs/default`, { transport: signalR.HttpTransportType.WebSockets })
    .withAutomaticReconnect([0, 100, 200, 400, 800])
    .configureLogging(signalR.LogLevel.None)
    .build()
  const inbox = new Inbox(client, 'tick')
  const reconnected = new Promise<string | undefined>((resolve) => client.onreconnected(resolve))
  await client.start()
  const connected = await service.listen('im.default.connected')

  // Find the node the client is on, fill its queue, and close that node right away.
  const onA = a.metrics.get('connections_opened') === 1
  const [closing] = onA ? [a] : [b]
  for (let i = 0; i < 50; i++) await service.publish('im.default.send.client', { connectionId: client.connectionId, method: 'tick', args: [i] })
  // A NATS round trip on the node's connection: every message before it has been handed to the socket.
  await closing.bus.ready()
  await closing.close()
  for (let i = 0; i < 50; i++) expect(await inbox.next()).toEqual([i])

  const newId = await withTimeout(reconnected, 10_000, 'the client to reconnect')
  expect(newId).not.toBe(undefined)
  const event = (await connected.nextFor(newId)).json as { node: string; connectionId: string }
  expect(event).toMatchObject({ connectionId: newId, node: onA ? 'drain-b' : 'drain-a' })
  await service.publish('im.default.send', { method: 'tick', args: ['after'] })
  expect(await inbox.next()).toEqual(['after'])
  await client.stop()
  if (!onA) await a.close()
}, 30_000)
