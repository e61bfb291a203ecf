/**
 * Pure rules for topics and NATS subjects. No I/O, and no imports but the error type: the hub
 * layer, the CLI and both bus implementations share them, so a topic that passes here is safe to
 * put in a subject.
 *
 * Subject syntax: tokens split on '.', `*` matches one token, `>` one or more trailing tokens
 * (https://docs.nats.io/nats-concepts/subjects). Client-supplied parts are held to the recommended
 * character set [A-Za-z0-9_-]: that excludes wildcards, whitespace,
 * CR/LF (protocol injection) and the reserved `$` prefixes by construction.
 */
import { ImError, ImErrorCode } from '../errors.js'

/** The longest topic a client may use, as docs/service-api.md states it for the DefaultHub's topics. */
export const MAX_TOPIC_LENGTH = 128

/** One or more [A-Za-z0-9_-] tokens joined by '.'. Length is checked separately. */
export const TOPIC_PATTERN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/

const TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/

/** True when `topic` may be used as the `<topic>` part of `im.<hub>.receive.<topic>`. */
export function isValidTopic(topic: string): boolean {
  return validateTopic(topic) === undefined
}

/** Why `topic` is not acceptable, or undefined when it is. The reason is safe to show a client. */
export function validateTopic(topic: unknown): string | undefined {
  if (typeof topic !== 'string') return 'topic must be a string'
  if (topic.length === 0) return 'topic must not be empty'
  if (topic.length > MAX_TOPIC_LENGTH) {
    return `topic must be at most ${MAX_TOPIC_LENGTH} characters (got ${topic.length})`
  }
  if (TOPIC_PATTERN.test(topic)) return undefined
  const tokens = topic.split('.')
  const emptyAt = tokens.findIndex((token) => token.length === 0)
  if (emptyAt !== -1) return `topic must not contain empty tokens (token ${emptyAt + 1} is empty)`
  if (topic.includes('*') || topic.includes('>')) return "topic must not contain the wildcards '*' or '>'"
  if (topic.includes('$')) return "topic must not contain '$' (reserved subjects)"
  return "topic tokens may contain only letters, digits, '_' and '-'"
}

/**
 * Why `subject` is not a usable NATS subject, or undefined. Laxer than a topic (any printable
 * character but '.', and `$` is allowed for system subjects such as `$JS.API`), but never
 * whitespace, control characters or empty tokens. `wildcards` allows `*` and a final `>` as whole
 * tokens: true for subscriptions, false for publishing.
 */
export function validateSubject(subject: string, options: { wildcards: boolean }): string | undefined {
  if (subject.length === 0) return 'subject must not be empty'
  if (/[\u0000-\u0020\u007f]/.test(subject)) return 'subject must not contain whitespace or control characters'
  const tokens = subject.split('.')
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string
    if (token.length === 0) return `subject must not contain empty tokens (token ${i + 1} is empty)`
    const wildcard = token === '*' || token === '>'
    if (wildcard && !options.wildcards) return 'subject must not contain wildcards when publishing'
    if (token === '>' && i !== tokens.length - 1) return "'>' must be the last token of a subject"
    if (!wildcard && (token.includes('*') || token.includes('>'))) {
      return "'*' and '>' must be whole tokens"
    }
  }
  return undefined
}

/** Why `queue` is not a usable queue group name, or undefined (no queue group is fine). */
export function validateQueueGroup(queue: string | undefined): string | undefined {
  if (queue === undefined) return undefined
  if (/^[^\u0000-\u0020\u007f*>]+$/.test(queue)) return undefined
  return 'queue group must be non-empty, without whitespace, control characters or wildcards'
}

/**
 * True when the concrete `subject` matches `pattern` with NATS wildcard rules: `*` matches exactly
 * one token, a final `>` matches one or more tokens.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true
  const want = pattern.split('.')
  const have = subject.split('.')
  for (let i = 0; i < want.length; i++) {
    const token = want[i]
    if (token === '>') return i === want.length - 1 && have.length > i
    if (i >= have.length) return false
    if (token !== '*' && token !== have[i]) return false
  }
  return want.length === have.length
}

export interface HubSubjects {
  /** `im.<hub>.receive.<topic>`: what clients publish, for services. The topic must be valid. */
  receive(topic: string): string
  /** `im.<hub>.connected`: a connection opened. */
  readonly connected: string
  /** `im.<hub>.disconnected`: a connection closed. */
  readonly disconnected: string
  /** `im.<hub>.deliver`: internal node-to-node fan-out. */
  readonly deliver: string
  /** `im.<hub>.invoke.client`: services ask one connection for a result (NATS request/reply). */
  readonly invokeClient: string
  /** `im.<hub>.node`: prefix of the node-to-node subjects, `im.<hub>.node.<node tag>`. */
  readonly node: string
  /** `im.<hub>.authorize`: the authorizer service decides topic access (NATS request/reply). */
  readonly authorize: string
  /** Presence: what services ask and hear about users and connections (see docs/presence.md). */
  readonly presence: PresenceSubjects
  /**
   * What services publish for this hub's clients, as subject patterns: `im.<hub>.send`,
   * `im.<hub>.send.*` (client, user, group), `im.<hub>.groups.*` (add, remove) and
   * `im.<hub>.watch.>` (a watched topic) and `im.<hub>.disconnect`. The HTTP publish endpoint takes these.
   */
  readonly service: readonly string[]
  /**
   * IMService's own subjects under `im.<hub>`, as patterns: client envelopes, node-to-node
   * traffic, client-result requests, authorizer requests, presence and lifecycle events. Services may read them; the HTTP
   * publish endpoint never writes them.
   */
  readonly own: readonly string[]
}

export interface PresenceSubjects {
  /** `im.<hub>.presence.user`: request, where a user is connected. */
  readonly user: string
  /** `im.<hub>.presence.users`: request, which of many users are connected. */
  readonly users: string
  /** `im.<hub>.presence.group`: request, who is in a group. */
  readonly group: string
  /** `im.<hub>.disconnect`: publish, close connections of users or by id. */
  readonly disconnect: string
  /** `im.<hub>.user.online`: event, a user's first connection in the cluster opened. */
  readonly online: string
  /** `im.<hub>.user.offline`: event, a user's last connection in the cluster closed. */
  readonly offline: string
  /** `im.<hub>.presence.node.ask`: internal, a presence question to every node. */
  readonly ask: string
  /** `im.<hub>.presence.node.answer.<node tag>`: internal, where nodes answer one node's question. */
  answers(tag: string): string
  /** `im.<hub>.presence.node.alive`: internal, node heartbeats. */
  readonly alive: string
  /** `im.<hub>.presence.state.<key>`: internal, the JetStream subjects holding which nodes hold each user. */
  readonly state: string
}

/**
 * The standard subjects of one hub. Throws IM_HUB_DEFINITION_INVALID (caught at start-up) when
 * `hubName` is not a single token; `receive` throws when the topic is invalid, so callers
 * validate client topics with `validateTopic` first and turn the reason into a client error.
 */
export function hubSubjects(hubName: string): HubSubjects {
  if (!TOKEN_PATTERN.test(hubName)) {
    throw new ImError(ImErrorCode.HubDefinitionInvalid, `hub name must be one token of letters, digits, '_' or '-' (got ${JSON.stringify(hubName)})`)
  }
  const prefix = `im.${hubName}`
  return {
    receive(topic: string): string {
      const reason = validateTopic(topic)
      if (reason !== undefined) throw new ImError(ImErrorCode.InvalidTopic, `${reason} (hub ${hubName})`)
      return `${prefix}.receive.${topic}`
    },
    connected: `${prefix}.connected`,
    disconnected: `${prefix}.disconnected`,
    deliver: `${prefix}.deliver`,
    invokeClient: `${prefix}.invoke.client`,
    node: `${prefix}.node`,
    authorize: `${prefix}.authorize`,
    presence: {
      user: `${prefix}.presence.user`,
      users: `${prefix}.presence.users`,
      group: `${prefix}.presence.group`,
      disconnect: `${prefix}.disconnect`,
      online: `${prefix}.user.online`,
      offline: `${prefix}.user.offline`,
      ask: `${prefix}.presence.node.ask`,
      answers: (tag: string) => `${prefix}.presence.node.answer.${tag}`,
      alive: `${prefix}.presence.node.alive`,
      state: `${prefix}.presence.state`,
    },
    service: [`${prefix}.send`, `${prefix}.send.*`, `${prefix}.groups.*`, `${prefix}.watch.>`, `${prefix}.disconnect`],
    own: [
      `${prefix}.receive.>`,
      `${prefix}.deliver`,
      `${prefix}.node.>`,
      `${prefix}.invoke.>`,
      `${prefix}.authorize`,
      `${prefix}.connected`,
      `${prefix}.disconnected`,
      `${prefix}.presence.>`,
      `${prefix}.user.online`,
      `${prefix}.user.offline`,
    ],
  }
}

/**
 * True when every concrete subject that `inner` matches is also matched by `outer` (both may hold
 * wildcards): `im.default.send.>` covers `im.default.send.user` and `im.default.send.*`, but
 * `im.default.send.*` does not cover `im.default.send.>`. Used to tell whether a stream holds
 * everything a subscription wants.
 */
export function subjectCovers(outer: string, inner: string): boolean {
  const want = outer.split('.')
  const have = inner.split('.')
  for (let i = 0; i < want.length; i++) {
    const token = want[i]
    if (token === '>') return have.length > i
    if (i >= have.length) return false
    const got = have[i]
    if (got === '>') return false
    if (token !== '*' && token !== got) return false
  }
  return want.length === have.length
}

/**
 * True when some concrete subject matches both patterns (either may hold wildcards):
 * `im.chat.*` and `im.chat.deliver` overlap, `im.chat.send.>` and `im.chat.deliver` do not.
 */
export function subjectsOverlap(a: string, b: string): boolean {
  const left = a.split('.')
  const right = b.split('.')
  for (let i = 0; i < left.length && i < right.length; i++) {
    const x = left[i]
    const y = right[i]
    if (x === '>' || y === '>') return true
    if (x !== '*' && y !== '*' && x !== y) return false
  }
  return left.length === right.length
}
