/** The JSON documents IMService publishes for services: invocation envelopes, lifecycle events, and (re-exported) the presence documents. */

/** Published for a client invocation that is forwarded to the services. */
export interface InvocationEnvelope {
  readonly hub: string
  readonly method: string
  /** DefaultHub's `publish(topic, ...)`: the topic the client named. */
  readonly topic?: string
  readonly args: readonly unknown[]
  readonly connectionId: string
  /** null for an anonymous connection. */
  readonly userId: string | null
  /** The IMService node that holds the connection. */
  readonly node: string
  /** ISO 8601, when IMService received the invocation. */
  readonly timestamp: string
}

/** Published on `im.<hub>.connected` and `im.<hub>.disconnected`. */
export interface LifecycleEvent {
  readonly connectionId: string
  readonly userId: string | null
  readonly transport: string
  readonly node: string
  readonly timestamp: string
}

// The presence subjects' documents live with the code that reads and writes them; `im generate`
// reads them from here, with the rest of what IMService sends and takes.
export type {
  DisconnectRequest,
  PresenceConnection,
  PresenceError,
  PresenceGroupAnswer,
  PresenceGroupRequest,
  PresenceUserAnswer,
  PresenceUserCount,
  PresenceUserRequest,
  PresenceUsersAnswer,
  PresenceUsersRequest,
  UserPresenceEvent,
} from '../lifetime/presence/presence-types.js'
