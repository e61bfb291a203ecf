import type { BusStatus } from './bus.js'
import type { Logger } from '../logger.js'

/** The listeners of a bus's state changes; one that throws is logged and the others still hear. */
export class StatusListeners {
  private readonly listeners = new Set<(status: BusStatus) => void>()

  constructor(private readonly logger: Logger) {}

  add(listener: (status: BusStatus) => void): () => void {
    this.listeners.add(listener)
    return () => void this.listeners.delete(listener)
  }

  notify(status: BusStatus): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(status)
      } catch (error) {
        this.logger.error('bus status listener threw', { error })
      }
    }
  }
}
