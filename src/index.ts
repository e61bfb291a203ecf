/**
 * The public API of IMService: what hubs and im.config.ts import. Nothing else is public.
 */
export { Hub, HubMethod, HubStream, Forward, Subscribe, ClientMethod, Authorize } from './hub/decorators.js'
export { HubBase } from './hub/hub.js'
export { HubException, ImError, ImErrorCode, isImError } from './errors.js'
export { readSendMessage, readTargets, readGroupMembership } from './hub/service-message.js'
export { validateTopic, isValidTopic } from './bus/subjects.js'
export { defineConfig } from './config/define-config.js'

export type { HubCallerContext, HubBus, HubInvocation, SubscriptionContext } from './hub/hub.js'
export type { HttpContextSnapshot } from './connection/opening-request.js'
export type { TopicAction } from './hub/topic-rules.js'
export type { GroupManager } from './hub/clients.js'
export type { ClientProxy, SingleClientProxy, HubClients, InvokeOptions, ClientResult, UntypedClient } from './hub/client-types.js'
export type { DeliveryShaping } from './lifetime/delivery-shaping.js'
export type { InvocationEnvelope, LifecycleEvent } from './hub/envelope.js'
export type { SendMessage, GroupMembershipMessage } from './hub/service-message.js'
export type { HubOptions, HubMethodOptions, ForwardOptions, SubscribeOptions, AuthorizeOptions } from './hub/metadata.js'
export type { HubTransport, ImConfig, ImConfigInput, TopicAudience, TopicRuleInput } from './config/config.js'

// Running a node in-process (what `im serve` does), for embedding and tests.
export { startServer } from './server.js'
export { loadHubs } from './server/load-hubs.js'
export { checkHubs } from './server/check-hubs.js'
export { resolveConfig, loadConfigFile, describeConfig } from './config/load-config.js'
export { createConsoleLogger, silentLogger } from './logger.js'
export type { ImServer, ImServerOptions } from './server.js'
export type { Logger, LogLevel } from './logger.js'
