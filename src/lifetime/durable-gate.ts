/**
 * Durable user messages at one node's connections: each reaches a user's connection once and in
 * the order of the stream that captured it, whether it comes live or from the offline store.
 *
 * - When a signed-in user's connection opens, the messages kept for the user while away are read
 *   (DurableSource.replay) without holding up the handshake; what is pushed to that connection
 *   meanwhile waits, and goes out after the replayed messages, in its order, minus the durable
 *   messages the replay gave.
 * - Every durable message handed to a connection moves the user's cursor (DurableSource.delivered),
 *   so the next connection, on any node, does not get it again.
 * - When the store cannot be read, the waiting messages go out and the connection stops moving the
 *   cursor: what it gets live may come again at the next connect, but nothing kept is skipped.
 */
import type { Logger } from '../logger.js'
import { MessageType } from '../protocol/messages.js'
import type { DeliverableConnection } from './lifetime-manager.js'

/** A kept message ready to be sent: its sequence in the capturing stream, the client method and arguments. */
export interface ReplayedMessage {
  readonly sequence: number
  readonly method: string
  readonly args: readonly unknown[]
}

export interface DurableSource {
  /**
   * The user's kept messages above its cursor, in order, once every durable message this node
   * handled up to `seenUpTo` is kept. Rejects when the store cannot be read.
   */
  replay(userId: string, seenUpTo: number): Promise<readonly ReplayedMessage[]>
  /** The user got everything up to `sequence`: move its cursor there (never back). */
  delivered(userId: string, sequence: number): void
}

export interface DurableGateOptions {
  readonly source: DurableSource
  readonly logger: Logger
  /** Live messages one connection may hold while its replay runs; past it the replay is given up. */
  readonly maxHeld?: number
}

interface Held {
  /** Undefined for a message that is not durable: it always goes out. */
  readonly sequence: number | undefined
  readonly frame: string | Uint8Array
}

interface GateState {
  /** Live messages waiting for the replay; undefined once it is over. */
  held: Held[] | undefined
  /** The highest sequence sent to this connection. */
  last: number
  /** False once a replay failed: its deliveries no longer move the cursor. */
  synced: boolean
}

const DEFAULT_MAX_HELD = 10_000

export class DurableGate {
  readonly #options: DurableGateOptions
  readonly #states = new Map<DeliverableConnection, GateState>()
  /** The highest durable sequence this node has handled. */
  #seen = 0
  /** Connections whose replay runs: while 0, other pushes skip the gate entirely. */
  #holding = 0

  constructor(options: DurableGateOptions) {
    this.#options = options
  }

  /** Connections whose replay is still running, for tests and metrics. */
  get replaying(): number {
    return this.#holding
  }

  /** Pushes that are not durable: at once, unless the connection's replay runs. */
  push(connection: DeliverableConnection, frame: string | Uint8Array): void {
    if (this.#holding > 0) {
      const state = this.#states.get(connection)
      if (state?.held) return this.#hold(connection, state, undefined, frame)
    }
    connection.sendFrame(frame)
  }

  /** A durable message handled by this node (delivered here or not). */
  seen(sequence: number): void {
    if (sequence > this.#seen) this.#seen = sequence
  }

  /** A connection opened: replay what was kept for its user. Anonymous connections get nothing kept. */
  connected(connection: DeliverableConnection): void {
    const userId = connection.userId
    if (userId === undefined) return
    const state: GateState = { held: [], last: 0, synced: true }
    this.#set(connection, state)
    this.#options.source.replay(userId, this.#seen).then(
      (messages) => this.#finish(connection, state, messages),
      (error: unknown) => {
        this.#options.logger.warn('offline messages could not be read; live ones go on, and what this connection gets may come again at the next connect', {
          connectionId: connection.connectionId,
          error,
        })
        this.#giveUp(connection, state)
      },
    )
  }

  /** A connection taken over from another node: it was connected all along and replays nothing. */
  moved(connection: DeliverableConnection): void {
    if (connection.userId !== undefined) this.#set(connection, { held: undefined, last: 0, synced: true })
  }

  removed(connection: DeliverableConnection): void {
    this.#set(connection, undefined)
  }

  #set(connection: DeliverableConnection, state: GateState | undefined): void {
    const previous = this.#states.get(connection)
    if (previous) this.#release(previous)
    if (state) this.#states.set(connection, state)
    else this.#states.delete(connection)
    if (state?.held) this.#holding++
  }

  /** Sends a durable message to one of its recipients now, or after the connection's replay. */
  offer(connection: DeliverableConnection, sequence: number, frame: string | Uint8Array): void {
    const state = this.#states.get(connection)
    if (!state) return this.#send(connection, undefined, sequence, frame)
    if (state.held) return this.#hold(connection, state, sequence, frame)
    if (sequence > state.last) this.#send(connection, state, sequence, frame)
  }

  #hold(connection: DeliverableConnection, state: GateState, sequence: number | undefined, frame: string | Uint8Array): void {
    state.held!.push({ sequence, frame })
    if (state.held!.length > (this.#options.maxHeld ?? DEFAULT_MAX_HELD)) {
      this.#options.logger.warn('offline replay is too slow; sending the live messages it held', { connectionId: connection.connectionId })
      this.#giveUp(connection, state)
    }
  }

  #send(connection: DeliverableConnection, state: GateState | undefined, sequence: number, frame: string | Uint8Array): void {
    connection.sendFrame(frame)
    if (state) state.last = sequence
    if ((state?.synced ?? true) && connection.userId !== undefined) this.#options.source.delivered(connection.userId, sequence)
  }

  #finish(connection: DeliverableConnection, state: GateState, messages: readonly ReplayedMessage[]): void {
    // Closed meanwhile, or replay given up: what it read is for the next connect.
    if (this.#states.get(connection) !== state || !state.held) return
    let last = state.last
    for (const message of messages) {
      if (message.sequence <= last) continue
      connection.sendFrame(connection.protocol.writeMessage({ type: MessageType.Invocation, target: message.method, arguments: message.args as unknown[] }))
      last = message.sequence
    }
    for (const held of state.held) {
      if (held.sequence !== undefined) {
        if (held.sequence <= last) continue
        last = held.sequence
      }
      connection.sendFrame(held.frame)
    }
    this.#release(state)
    if (last > state.last) {
      state.last = last
      this.#options.source.delivered(connection.userId!, last)
    }
  }

  #giveUp(connection: DeliverableConnection, state: GateState): void {
    if (this.#states.get(connection) !== state) return
    state.synced = false
    const held = state.held ?? []
    this.#release(state)
    for (const message of held) {
      if (message.sequence !== undefined) {
        if (message.sequence <= state.last) continue
        state.last = message.sequence
      }
      connection.sendFrame(message.frame)
    }
  }

  #release(state: GateState): void {
    if (state.held) this.#holding--
    state.held = undefined
  }
}
