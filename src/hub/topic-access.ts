/**
 * Whether a caller may watch or publish a topic: the topic rules decide, and hand the cases they
 * leave open to the authorizer service when it is on. A refusal is a HubException whose text
 * names the topic and the reason, and it is counted (`topic_watch_refused`, `topic_publish_refused`).
 */
import type { Bus } from '../bus/bus.js'
import { validateTopic } from '../bus/subjects.js'
import type { TopicsConfig } from '../config/config.js'
import { HubException } from '../errors.js'
import type { Logger } from '../logger.js'
import type { Metrics } from '../metrics.js'
import type { HubCallerContext } from './hub.js'
import { TopicAuthorizer } from './topic-authorizer.js'
import { TopicRules } from './topic-rules.js'
import type { TopicAction } from './topic-rules.js'

export interface TopicAccessOptions {
  readonly rules: TopicRules
  /** Absent when the authorizer is off. */
  readonly authorizer?: TopicAuthorizer
  readonly metrics: Metrics
}

export class TopicAccess {
  constructor(private readonly options: TopicAccessOptions) {}

  /** Resolves when `caller` may do `action` on `topic`; throws a HubException when not. */
  async authorize(action: TopicAction, topic: string, caller: HubCallerContext): Promise<void> {
    // Wildcards in a topic would match rules they must not: a hub of one's own may pass anything.
    const problem = validateTopic(topic)
    if (problem !== undefined) throw new HubException(`Invalid topic '${topic}': ${problem}.`)
    const decision = this.options.rules.decide(action, topic, caller)
    if (decision.kind === 'allow') return
    if (decision.kind === 'ask' && this.options.authorizer) {
      const verdict = await this.options.authorizer.decide(action, topic, caller)
      if (verdict.allow) return
      throw this.refuse(action, topic, verdict.reason)
    }
    throw this.refuse(action, topic, decision.kind === 'refuse' ? decision.reason : 'no topic rule covers it')
  }

  private refuse(action: TopicAction, topic: string, reason: string): HubException {
    this.options.metrics.inc(action === 'watch' ? 'topic_watch_refused' : 'topic_publish_refused')
    const what = action === 'watch' ? 'watch' : 'publish to'
    return new HubException(`Not allowed to ${what} '${topic}': ${reason.replace(/\.+$/, '')}.`)
  }
}

export interface TopicAccessSetup {
  readonly topics: TopicsConfig
  /** `im.<hub>.authorize` */
  readonly authorizerSubject: string
  readonly bus: Bus
  readonly metrics: Metrics
  readonly logger: Logger
}

/** The topic access of one hub from the node's `topics` settings. */
export function createTopicAccess(setup: TopicAccessSetup): TopicAccess {
  const { topics, metrics } = setup
  const { enabled, timeoutMs, cacheTtlMs, cacheSize } = topics.authorizer
  const authorizer = enabled
    ? new TopicAuthorizer({ bus: setup.bus, subject: setup.authorizerSubject, timeoutMs, cacheTtlMs, cacheSize, metrics, logger: setup.logger })
    : undefined
  // With the authorizer on, it decides the topics no rule matches.
  const rules = new TopicRules(topics.rules, enabled ? 'ask' : 'refuse')
  return new TopicAccess({ rules, ...(authorizer ? { authorizer } : {}), metrics })
}
