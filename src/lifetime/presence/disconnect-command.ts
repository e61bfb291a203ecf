/**
 * `im.<hub>.disconnect`: a service ends connections (a ban, "log out everywhere"). Every node
 * hears the publish and closes the named connections it holds with a SignalR Close message
 * (HubProtocol.md, "Close") that carries the reason as its error and `allowReconnect: false`,
 * so the client's automatic reconnect stays off and a stateful reconnect has nothing to resume.
 */
import type { Bus, BusMessage, BusSubscription } from '../../bus/bus.js'
import type { Logger } from '../../logger.js'
import type { LifetimeManager } from '../lifetime-manager.js'
import type { PresentConnection } from './local-presence.js'
import { parseDisconnect } from './presence-requests.js'
import type { DisconnectCommand } from './presence-requests.js'

/** The Close error when the service gave no reason. */
export const DEFAULT_DISCONNECT_REASON = 'Disconnected by the server.'

export interface DisconnectCommandsOptions {
  readonly bus: Bus
  readonly subject: string
  readonly lifetime: LifetimeManager<PresentConnection>
  /** A publish refused as malformed (for metrics). */
  readonly refused: () => void
  readonly logger: Logger
}

const encoder = new TextEncoder()

export class DisconnectCommands {
  private subscription: BusSubscription | undefined

  constructor(private readonly options: DisconnectCommandsOptions) {}

  start(): void {
    this.subscription = this.options.bus.subscribe(this.options.subject, (message) => this.onCommand(message))
  }

  stop(): void {
    this.subscription?.unsubscribe()
  }

  /** Closes this node's connections that `command` names; returns how many. */
  apply(command: DisconnectCommand): number {
    const { lifetime } = this.options
    const targets = new Set<PresentConnection>()
    for (const userId of command.userIds) for (const connection of lifetime.connectionsOf(userId) ?? []) targets.add(connection)
    for (const id of command.connectionIds) {
      const connection = lifetime.get(id)
      if (connection) targets.add(connection)
    }
    const error = command.reason ?? DEFAULT_DISCONNECT_REASON
    for (const connection of targets) connection.close({ error, allowReconnect: false })
    return targets.size
  }

  private onCommand(message: BusMessage): void {
    const parsed = parseDisconnect(message.data)
    if ('error' in parsed) {
      this.options.refused()
      this.options.logger.warn('disconnect request dropped', { subject: message.subject, reason: parsed.error })
      // Every node hears it and would answer: only a request gets the error, and the first answer counts.
      if (message.reply !== undefined) {
        const body = encoder.encode(JSON.stringify({ error: `Invalid request: ${parsed.error}.`, code: 'invalid_request' }))
        this.options.bus.publish(message.reply, body, { confirm: false }).catch(() => undefined)
      }
      return
    }
    const closed = this.apply(parsed.ok)
    if (closed > 0) this.options.logger.info('connections closed by a disconnect request', { closed })
  }
}
