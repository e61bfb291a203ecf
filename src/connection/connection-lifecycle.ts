/**
 * The states of one hub connection and the only transitions between them. A connection is in
 * exactly one state at a time, as a WebSocket's readyState; unlike a WebSocket, it may outlive its
 * transport (stateful reconnect) and move to another node. HubConnection extends this class and
 * is the only one that can change its state (`to` is protected): others read the state and ask
 * the connection to act.
 *
 * | from                       | to         | when                                                        |
 * | -------------------------- | ---------- | ----------------------------------------------------------- |
 * | handshaking                | open       | the handshake is accepted                                   |
 * | open                       | detached   | the transport is lost (stateful reconnect), or let go at drain |
 * | detached                   | open       | the client resumes on a new transport (an open one may swap) |
 * | moving-in                  | detached   | the old node's state is adopted; the client's socket follows |
 * | every state not ended      | closed     | a refused handshake, a close by either side, a clean end of the transport, the reconnect window passed |
 * | open, detached, moving-in  | moved-away | handed over to another node, or a move here abandoned       |
 */

export const ConnectionState = {
  /** The transport is open; the client's handshake request has not arrived (or not whole). */
  Handshaking: 'handshaking',
  /** Handshake done and a transport attached: messages flow both ways. */
  Open: 'open',
  /**
   * Stateful reconnect: the transport was lost, or let go as the node drains. What is sent is
   * buffered, not written, until the client resumes on a new transport or the window passes.
   */
  Detached: 'detached',
  /**
   * Moving here from another node (connection-move.ts): no transport yet, and what is sent is
   * collected until the old node's state is adopted.
   */
  MovingIn: 'moving-in',
  /** Ended; the hub heard of it if the handshake had completed. */
  Closed: 'closed',
  /** Ended here without anyone hearing of it: the connection lives on at another node, or never arrived. */
  MovedAway: 'moved-away',
} as const

export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState]

const { Handshaking, Open, Detached, MovingIn, Closed, MovedAway } = ConnectionState

/** Every allowed transition; anything else is refused. */
const TRANSITIONS: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  [Handshaking]: [Open, Closed],
  [Open]: [Detached, Closed, MovedAway],
  [Detached]: [Open, Closed, MovedAway],
  [MovingIn]: [Detached, Closed, MovedAway],
  [Closed]: [],
  [MovedAway]: [],
}

/** States without a transport to write to: sends are buffered (or dropped) until a resume. */
const TRANSPORTLESS: ReadonlySet<ConnectionState> = new Set([Detached, MovingIn])

export function canMove(from: ConnectionState, to: ConnectionState): boolean {
  return TRANSITIONS[from].includes(to)
}

export abstract class ConnectionLifecycle {
  private current: ConnectionState
  private transportlessSince: number | undefined

  protected constructor(initial: typeof Handshaking | typeof MovingIn, now: number) {
    this.current = initial
    if (TRANSPORTLESS.has(initial)) this.transportlessSince = now
  }

  get state(): ConnectionState {
    return this.current
  }

  /** The handshake has completed and the connection has not ended (open, detached or moving in). */
  get isConnected(): boolean {
    return this.current === Open || TRANSPORTLESS.has(this.current)
  }

  get isEnded(): boolean {
    return this.current === Closed || this.current === MovedAway
  }

  /** True once the connection has moved to another node (it ended here without ending). */
  get moved(): boolean {
    return this.current === MovedAway
  }

  /**
   * Since when the connection has had no transport (detached or moving in), for the reconnect
   * window; a connection that moved in keeps the time it started moving once it is detached.
   */
  get detachedSince(): number | undefined {
    return this.transportlessSince
  }

  /** Moves to `next` where the table allows it; false, and nothing changed, where it does not. */
  protected enter(next: ConnectionState, now: number): boolean {
    if (!canMove(this.current, next)) return false
    if (!TRANSPORTLESS.has(next)) this.transportlessSince = undefined
    else if (!TRANSPORTLESS.has(this.current)) this.transportlessSince = now
    this.current = next
    return true
  }
}
