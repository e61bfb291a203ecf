/**
 * Answers `im.<hub>.presence.user`, `.users` and `.group` by scatter/gather, with no central node:
 * one node of a queue group takes the service's request, asks every node at once on a core NATS
 * subject, and answers once every node it knows alive (node-roster.ts) has answered, or when the
 * gather timeout ends (then with the parts it has). Nothing is kept between questions, so nothing
 * is written on the connect path.
 */
import type { Bus, BusMessage, BusSubscription } from '../../bus/bus.js'
import type { PresenceSubjects } from '../../bus/subjects.js'
import type { Logger } from '../../logger.js'
import type { LifetimeManager } from '../lifetime-manager.js'
import { combine, localPart, readPart } from './local-presence.js'
import type { NodePart, PresentConnection } from './local-presence.js'
import { parseGroupQuery, parseUserQuery, parseUsersQuery } from './presence-requests.js'
import type { Parsed, PresenceQuery } from './presence-requests.js'
import type { NodeRoster } from './node-roster.js'

export interface PresenceQueriesOptions {
  readonly bus: Bus
  readonly subjects: PresenceSubjects
  /** This node's tag (its answers subject) and name (in connection entries). */
  readonly tag: string
  readonly nodeId: string
  readonly lifetime: LifetimeManager<PresentConnection>
  readonly roster: NodeRoster
  readonly gatherTimeoutMs: number
  /** A request refused as malformed (for metrics). */
  readonly refused: () => void
  readonly logger: Logger
}

/** Queue group of the request subjects: one node takes each request. */
export const PRESENCE_QUEUE = 'im-presence'

interface Gathering {
  readonly waitingFor: Set<string>
  readonly parts: NodePart[]
  readonly done: () => void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export class PresenceQueries {
  private readonly subscriptions: BusSubscription[] = []
  private readonly gatherings = new Map<string, Gathering>()
  private nextId = 0

  constructor(private readonly options: PresenceQueriesOptions) {}

  start(): void {
    const { bus, subjects, tag } = this.options
    const asked = (parse: (data: Uint8Array) => Parsed<PresenceQuery>) => (message: BusMessage) => this.onRequest(message, parse)
    this.subscriptions.push(
      bus.subscribe(subjects.user, asked(parseUserQuery), { queue: PRESENCE_QUEUE }),
      bus.subscribe(subjects.users, asked(parseUsersQuery), { queue: PRESENCE_QUEUE }),
      bus.subscribe(subjects.group, asked(parseGroupQuery), { queue: PRESENCE_QUEUE }),
      bus.subscribe(subjects.ask, (message) => this.onAsk(message)),
      bus.subscribe(`${subjects.answers(tag)}.*`, (message) => this.onAnswer(message)),
    )
  }

  stop(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe()
    for (const gathering of this.gatherings.values()) gathering.done()
  }

  /** Every node's part of the answer to `query`: this node's at once, the others' as they come. */
  async gather(query: PresenceQuery): Promise<NodePart[]> {
    const { roster, tag, subjects, bus } = this.options
    const local = localPart(query, this.options.lifetime, this.options.nodeId)
    const others = roster.alive().filter((t) => t !== tag)
    if (others.length === 0) return [local]
    const id = `${++this.nextId}`
    let timer: NodeJS.Timeout | undefined
    const parts: NodePart[] = [local]
    const finished = new Promise<void>((resolve) => {
      this.gatherings.set(id, { waitingFor: new Set(others), parts, done: resolve })
      timer = setTimeout(resolve, this.options.gatherTimeoutMs)
    })
    const ask = encoder.encode(JSON.stringify({ from: tag, query }))
    // Sent at the end of this turn (a publish someone waits for), not after the few milliseconds
    // an unconfirmed one may wait to share a write: a question crosses the bus three times.
    bus.publish(subjects.ask, ask, { reply: `${subjects.answers(tag)}.${id}` }).catch((error: unknown) => {
      this.options.logger.debug('presence question not sent', { error })
      this.gatherings.get(id)?.done()
    })
    await finished
    clearTimeout(timer)
    this.gatherings.delete(id)
    return parts
  }

  private async onRequest(message: BusMessage, parse: (data: Uint8Array) => Parsed<PresenceQuery>): Promise<void> {
    if (message.reply === undefined) {
      this.options.refused()
      this.options.logger.warn('presence request without a reply subject dropped: send it as a NATS request', { subject: message.subject })
      return
    }
    const parsed = parse(message.data)
    if ('error' in parsed) {
      this.options.refused()
      return this.reply(message.reply, { error: `Invalid request: ${parsed.error}.`, code: 'invalid_request' })
    }
    const parts = await this.gather(parsed.ok)
    this.reply(message.reply, combine(parsed.ok, parts))
  }

  /** Another node's question: this node's part, to the asker's answers subject. */
  private onAsk(message: BusMessage): void {
    if (message.reply === undefined) return
    let ask: { from?: unknown; query?: PresenceQuery }
    try {
      ask = JSON.parse(decoder.decode(message.data)) as typeof ask
    } catch {
      return
    }
    if (ask.from === this.options.tag || !isQuery(ask.query)) return
    this.reply(message.reply, { tag: this.options.tag, part: localPart(ask.query, this.options.lifetime, this.options.nodeId) })
  }

  private onAnswer(message: BusMessage): void {
    const id = message.subject.slice(message.subject.lastIndexOf('.') + 1)
    const gathering = this.gatherings.get(id)
    if (!gathering) return
    let answer: { tag?: unknown; part?: unknown }
    try {
      answer = JSON.parse(decoder.decode(message.data)) as typeof answer
    } catch {
      return
    }
    const part = readPart(answer.part)
    if (typeof answer.tag !== 'string' || !part || !gathering.waitingFor.delete(answer.tag)) return
    gathering.parts.push(part)
    if (gathering.waitingFor.size === 0) gathering.done()
  }

  private reply(subject: string, body: unknown): void {
    this.options.bus.publish(subject, encoder.encode(JSON.stringify(body))).catch((error: unknown) => {
      this.options.logger.debug('presence answer not sent', { subject, error })
    })
  }
}

function isQuery(query: unknown): query is PresenceQuery {
  if (typeof query !== 'object' || query === null) return false
  const q = query as { kind?: unknown; userId?: unknown; userIds?: unknown; group?: unknown }
  return (q.kind === 'user' && typeof q.userId === 'string') || (q.kind === 'users' && Array.isArray(q.userIds) && q.userIds.every((u) => typeof u === 'string')) || (q.kind === 'group' && typeof q.group === 'string')
}
