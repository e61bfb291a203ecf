/** The JSON documents IMService publishes for services: invocation envelopes and lifecycle events. */

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
