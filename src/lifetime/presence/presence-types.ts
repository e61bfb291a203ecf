/**
 * The JSON documents of the presence subjects, as services send and read them. `im generate`
 * reads these declarations (through src/hub/envelope.ts) for the typed helpers it writes, so
 * they are the one description of the wire form.
 */

/** Request on `im.<hub>.presence.user`. */
export interface PresenceUserRequest {
  readonly userId: string
}

/** One connection of a user, on whichever node holds it. */
export interface PresenceConnection {
  readonly connectionId: string
  /** The IMService node that holds the connection. */
  readonly node: string
  /** `WebSockets`, `ServerSentEvents` or `LongPolling`. */
  readonly transport: string
  /** ISO 8601, when the connection opened on its node. */
  readonly connectedAt: string
}

/** Answer on `im.<hub>.presence.user`. */
export interface PresenceUserAnswer {
  readonly userId: string
  readonly online: boolean
  readonly connections: readonly PresenceConnection[]
}

/** Request on `im.<hub>.presence.users`: at most 1000 ids. */
export interface PresenceUsersRequest {
  readonly userIds: readonly string[]
}

/** One user of a `presence.users` answer. */
export interface PresenceUserCount {
  readonly userId: string
  readonly online: boolean
  /** Connections of the user across the cluster. */
  readonly connections: number
}

/** Answer on `im.<hub>.presence.users`: one entry per distinct id asked, in the order asked. */
export interface PresenceUsersAnswer {
  readonly users: readonly PresenceUserCount[]
}

/** Request on `im.<hub>.presence.group`. */
export interface PresenceGroupRequest {
  readonly group: string
}

/** Answer on `im.<hub>.presence.group`: anonymous members are counted in `connections`, not listed. */
export interface PresenceGroupAnswer {
  readonly group: string
  readonly connections: number
  /** The signed-in users with a connection in the group, sorted; at most 10,000. */
  readonly users: readonly string[]
  /** Present, true, when the group has more users than `users` lists. */
  readonly usersTruncated?: true
}

/** Answer to a malformed presence request (or a disconnect sent as a request). */
export interface PresenceError {
  /** Says what is wrong, e.g. `Invalid request: "userId" is missing.` */
  readonly error: string
  readonly code: 'invalid_request'
}

/** Published on `im.<hub>.disconnect`: at least one target; at most 1000 in all. */
export interface DisconnectRequest {
  readonly userId?: string
  readonly userIds?: readonly string[]
  readonly connectionId?: string
  readonly connectionIds?: readonly string[]
  /** The error the clients' `onclose` sees; default `Disconnected by the server.` */
  readonly reason?: string
}

/** Published on `im.<hub>.user.online` and `im.<hub>.user.offline`. */
export interface UserPresenceEvent {
  readonly userId: string
  /** ISO 8601, when the node that saw the change published it. */
  readonly timestamp: string
}
