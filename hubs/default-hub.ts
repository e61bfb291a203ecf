/**
 * DefaultHub: the general-purpose hub every IMService serves at /signalr-hubs/default. Services
 * push to its connections through `im.default.send*` and manage groups through
 * `im.default.groups.*`; clients call `publish(topic, ...args)` to reach the services on
 * `im.default.receive.<topic>`, and `watch(topic)` to follow `im.default.watch.<topic>`. Who may
 * publish and watch which topic is decided by the topic rules and the authorizer service
 * (docs/configuration.md, Topic access). The contract is in docs/service-api.md.
 */
import {
  Hub,
  HubBase,
  HubException,
  HubMethod,
  HubStream,
  Subscribe,
  readGroupMembership,
  readSendMessage,
  readTargets,
  validateTopic,
} from '../src/index.js'
import type { SubscriptionContext } from '../src/index.js'

/**
 * A message to deliver: the client method to call and its arguments (`data` is one argument),
 * and optionally when: spread over `spreadMs` (0 to 60000), or collapsed with the other messages
 * of `collapseKey` (at most 256 characters) inside `collapseWindowMs` (1 to 60000, default 1000)
 * to the last of them.
 */
export interface DeliveryPayload {
  method: string
  args?: unknown[]
  data?: unknown
  spreadMs?: number
  collapseKey?: string
  collapseWindowMs?: number
}

export interface BroadcastPayload extends DeliveryPayload {
  excludeConnectionIds?: string[]
}

export interface ClientPayload extends DeliveryPayload {
  connectionId?: string
  connectionIds?: string[]
}

export interface UserPayload extends DeliveryPayload {
  userId?: string
  userIds?: string[]
  /**
   * Keep the message for those of the users who are offline and deliver it when they next connect
   * (offline delivery, when the node enables it); it then takes no spreading or collapsing.
   */
  durable?: boolean
}

export interface GroupPayload extends DeliveryPayload {
  group?: string
  groups?: string[]
  excludeConnectionIds?: string[]
}

/** Exactly one of connectionId or userId. */
export interface GroupMembershipPayload {
  group: string
  connectionId?: string
  userId?: string
}

// Nothing here reads this.context.http: its connections need not keep their request's headers.
@Hub({ name: 'default', httpContext: false })
export class DefaultHub extends HubBase {
  @Subscribe('im.default.send')
  async sendToAll(payload: BroadcastPayload): Promise<void> {
    const message = readSendMessage(payload)
    await this.clients.allExcept(message.excludeConnectionIds).withDelivery(message.delivery).send(message.method, ...message.args)
  }

  @Subscribe('im.default.send.client')
  async sendToClients(payload: ClientPayload): Promise<void> {
    const message = readSendMessage(payload)
    const ids = readTargets(payload, 'connectionId', 'connectionIds')
    await this.clients.clients(ids).withDelivery(message.delivery).send(message.method, ...message.args)
  }

  @Subscribe('im.default.send.user')
  async sendToUsers(payload: UserPayload, context: SubscriptionContext): Promise<void> {
    const message = readSendMessage(payload, context)
    const ids = readTargets(payload, 'userId', 'userIds')
    await this.clients.users(ids).withDelivery(message.delivery).send(message.method, ...message.args)
  }

  @Subscribe('im.default.send.group')
  async sendToGroups(payload: GroupPayload): Promise<void> {
    const message = readSendMessage(payload)
    const names = readTargets(payload, 'group', 'groups')
    await this.clients.groups(names, message.excludeConnectionIds).withDelivery(message.delivery).send(message.method, ...message.args)
  }

  @Subscribe('im.default.groups.add')
  async addToGroup(payload: GroupMembershipPayload): Promise<void> {
    const change = readGroupMembership(payload)
    if (change.connectionId !== undefined) await this.groups.addToGroup(change.connectionId, change.group)
    else await this.groups.addUserToGroup(change.userId!, change.group)
  }

  @Subscribe('im.default.groups.remove')
  async removeFromGroup(payload: GroupMembershipPayload): Promise<void> {
    const change = readGroupMembership(payload)
    if (change.connectionId !== undefined) await this.groups.removeFromGroup(change.connectionId, change.group)
    else await this.groups.removeUserFromGroup(change.userId!, change.group)
  }

  /**
   * Hands `args` to the services on `im.default.receive.<topic>`; completes once NATS has it.
   * The topic rules (and the authorizer, where they leave it to it) must let the caller publish.
   */
  @HubMethod()
  async publish(topic: string, ...args: unknown[]): Promise<void> {
    await this.authorizeTopic('publish', checkTopic(topic))
    await this.forward(`im.default.receive.${topic}`, 'publish', args, topic)
  }

  /**
   * A client stream to the services: each item is published on `im.default.receive.<topic>` as
   * its own envelope (args = [item]), in order. Completes with the number of items published.
   * Authorized once, as `publish`, before the first item is read.
   */
  @HubMethod()
  async publishStream(topic: string, items: AsyncIterable<unknown>): Promise<number> {
    await this.authorizeTopic('publish', checkTopic(topic))
    const subject = `im.default.receive.${topic}`
    let count = 0
    for await (const item of items) {
      await this.forward(subject, 'publishStream', [item], topic)
      count++
    }
    return count
  }

  /**
   * A server stream of what services publish on `im.default.watch.<topic>`, from the moment the
   * watch starts until the client disposes of the subscription or disconnects. The topic rules
   * (and the authorizer, where they leave it to it) must let the caller watch; they are asked once,
   * before the watch subscribes.
   */
  @HubStream()
  async *watch(topic: string): AsyncIterable<unknown> {
    await this.authorizeTopic('watch', checkTopic(topic))
    yield* this.bus.watch(`im.default.watch.${topic}`, this.signal)
  }
}

function checkTopic(topic: unknown): string {
  if (typeof topic !== 'string') throw new HubException(`Invalid topic of type ${topic === null ? 'null' : typeof topic}: the topic must be a string.`)
  const problem = validateTopic(topic)
  if (problem) throw new HubException(`Invalid topic '${topic}': ${problem}.`)
  return topic
}
