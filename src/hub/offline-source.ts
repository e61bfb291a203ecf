/**
 * Offline delivery's hub side: what a kept payload of `im.<hub>.send.user` means, for every hub
 * alike: the DefaultHub's send-user shape (docs/service-api.md), which a custom hub's handler of
 * that subject reads with the same `readSendMessage` and `readTargets`. The sorter asks who a
 * captured payload is for (a durable user message, read as the live path reads it); a connect's
 * replay turns kept payloads into the client method and arguments the live path would send. The
 * gate that orders replayed and live messages per connection of one hub is built here on top of
 * the keeper.
 */
import type { StoredMessage } from '../bus/offline-store.js'
import { DurableGate } from '../lifetime/durable-gate.js'
import type { DurableSource, ReplayedMessage } from '../lifetime/durable-gate.js'
import type { Logger } from '../logger.js'
import { readSendMessage, readTargets } from './service-message.js'

/** What the gate needs of the NATS side (bus/offline-keeper.ts). */
export interface KeptMessages {
  kept(hub: string, userId: string, seenUpTo: number): Promise<readonly StoredMessage[]>
  delivered(hub: string, userId: string, sequence: number): void
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** The method, arguments and users of a durable user message; undefined for any other payload. */
function readDurable(data: Uint8Array, maxServicePayloadSize: number): { method: string; args: readonly unknown[]; users: readonly string[] } | undefined {
  if (data.byteLength > maxServicePayloadSize) return undefined
  try {
    const payload: unknown = JSON.parse(decoder.decode(data))
    const message = readSendMessage(payload)
    if (!message.durable) return undefined
    return { method: message.method, args: message.args, users: readTargets(payload, 'userId', 'userIds') }
  } catch {
    return undefined
  }
}

/** For the sorter: who a captured payload asks to be kept for. A payload the live path drops is not kept. */
export function durableRecipients(maxServicePayloadSize: number): (data: Uint8Array) => readonly string[] | undefined {
  return (data) => readDurable(data, maxServicePayloadSize)?.users
}

/** The gate of one hub's connections, replaying what `keeper` kept for that hub. */
export function offlineGate(keeper: KeptMessages, hub: string, logger: Logger, maxServicePayloadSize: number): DurableGate {
  const source: DurableSource = {
    async replay(userId: string, seenUpTo: number): Promise<readonly ReplayedMessage[]> {
      const messages: ReplayedMessage[] = []
      for (const { sourceSequence, data } of await keeper.kept(hub, userId, seenUpTo)) {
        const message = readDurable(data, maxServicePayloadSize)
        if (message) messages.push({ sequence: sourceSequence, method: message.method, args: message.args })
      }
      return messages
    },
    delivered: (userId, sequence) => keeper.delivered(hub, userId, sequence),
  }
  return new DurableGate({ source, logger })
}
