/**
 * One node's part of a presence answer, read from its lifetime manager, and how the parts of
 * every node add up to the answer a service gets. Pure but for the read of the index.
 */
import type { DeliverableConnection, LifetimeManager } from '../lifetime-manager.js'
import type { PresenceQuery } from './presence-requests.js'
import type { PresenceConnection, PresenceGroupAnswer, PresenceUserAnswer, PresenceUsersAnswer } from './presence-types.js'

/** What presence needs of a connection (HubConnection has it). */
export interface PresentConnection extends DeliverableConnection {
  readonly transport: { readonly name: string }
  /** When the connection opened on this node, ms since the epoch. */
  readonly createdAt: number
  close(options: { error?: string; allowReconnect?: boolean }): void
}


/** One node's part. `users` maps user id to its connections on the node (users asked about only). */
export type NodePart =
  | { readonly kind: 'user'; readonly connections: readonly PresenceConnection[] }
  | { readonly kind: 'users'; readonly counts: Readonly<Record<string, number>> }
  | { readonly kind: 'group'; readonly connections: number; readonly users: readonly string[]; readonly truncated?: true }

/**
 * Most users a group answer lists: with ids of up to 1,024 characters a longer list could pass
 * NATS's default max_payload of 1 MiB, and the node's part would be lost.
 */
export const MAX_GROUP_USERS = 10_000

export type PresenceAnswer = PresenceUserAnswer | PresenceUsersAnswer | PresenceGroupAnswer

export function localPart(query: PresenceQuery, lifetime: LifetimeManager<PresentConnection>, node: string): NodePart {
  switch (query.kind) {
    case 'user': {
      const connections = [...(lifetime.connectionsOf(query.userId) ?? [])].map((c) => ({
        connectionId: c.connectionId,
        node,
        transport: c.transport.name,
        connectedAt: new Date(c.createdAt).toISOString(),
      }))
      return { kind: 'user', connections }
    }
    case 'users': {
      const counts: Record<string, number> = {}
      for (const userId of query.userIds) {
        const size = lifetime.connectionsOf(userId)?.size ?? 0
        if (size > 0) counts[userId] = size
      }
      return { kind: 'users', counts }
    }
    case 'group': {
      const members = lifetime.membersOf(query.group) ?? new Set<PresentConnection>()
      const users = new Set<string>()
      let truncated = false
      for (const member of members) {
        if (member.userId === undefined || users.has(member.userId)) continue
        if (users.size === MAX_GROUP_USERS) truncated = true
        else users.add(member.userId)
      }
      return { kind: 'group', connections: members.size, users: [...users], ...(truncated ? { truncated: true as const } : {}) }
    }
  }
}

/** The answer a service gets from the parts of every node that answered. */
export function combine(query: PresenceQuery, parts: readonly NodePart[]): PresenceAnswer {
  switch (query.kind) {
    case 'user': {
      const connections = parts.flatMap((part) => (part.kind === 'user' ? part.connections : []))
      connections.sort((a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.connectionId.localeCompare(b.connectionId))
      return { userId: query.userId, online: connections.length > 0, connections }
    }
    case 'users': {
      const seen = new Set<string>()
      const users = []
      for (const userId of query.userIds) {
        if (seen.has(userId)) continue
        seen.add(userId)
        let connections = 0
        for (const part of parts) if (part.kind === 'users') connections += part.counts[userId] ?? 0
        users.push({ userId, online: connections > 0, connections })
      }
      return { users }
    }
    case 'group': {
      let connections = 0
      let truncated = false
      const users = new Set<string>()
      for (const part of parts) {
        if (part.kind !== 'group') continue
        connections += part.connections
        truncated ||= part.truncated === true
        for (const user of part.users) users.add(user)
      }
      const sorted = [...users].sort()
      if (sorted.length > MAX_GROUP_USERS) truncated = true
      return { group: query.group, connections, users: sorted.slice(0, MAX_GROUP_USERS), ...(truncated ? { usersTruncated: true as const } : {}) }
    }
  }
}

/** A node part from another node, checked: the bus is shared, a stray message must not throw. */
export function readPart(value: unknown): NodePart | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const part = value as { kind?: unknown; connections?: unknown; counts?: unknown; users?: unknown }
  if (part.kind === 'user' && Array.isArray(part.connections)) return value as NodePart
  if (part.kind === 'users' && typeof part.counts === 'object' && part.counts !== null) return value as NodePart
  if (part.kind === 'group' && typeof part.connections === 'number' && Array.isArray(part.users)) return value as NodePart
  return undefined
}
