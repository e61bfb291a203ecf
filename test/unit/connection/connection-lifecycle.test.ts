/** The state machine of a connection: every transition it allows, and that it refuses the rest. */
import { describe, expect, it } from 'vitest'
import { canMove, ConnectionLifecycle, ConnectionState } from '../../../src/connection/connection-lifecycle.js'

const { Handshaking, Open, Detached, MovingIn, Closed, MovedAway } = ConnectionState
const ALL = Object.values(ConnectionState)

/** Only a subclass (HubConnection) may change the state; this one lets the test do it. */
class Lifecycle extends ConnectionLifecycle {
  constructor(initial: typeof Handshaking | typeof MovingIn, now: number) {
    super(initial, now)
  }

  to(next: ConnectionState, now: number): boolean {
    return this.enter(next, now)
  }
}

const ALLOWED: ReadonlyArray<readonly [ConnectionState, ConnectionState]> = [
  [Handshaking, Open],
  [Handshaking, Closed],
  [Open, Detached],
  [Open, Closed],
  [Open, MovedAway],
  [Detached, Open],
  [Detached, Closed],
  [Detached, MovedAway],
  [MovingIn, Detached],
  [MovingIn, Closed],
  [MovingIn, MovedAway],
]

describe('connection lifecycle', () => {
  it('allows exactly the listed transitions', () => {
    const allowed = ALL.flatMap((from) => ALL.filter((to) => canMove(from, to)).map((to) => [from, to] as const))
    expect(allowed).toEqual(ALLOWED)
  })

  it('refuses a transition without changing anything', () => {
    const lifecycle = new Lifecycle(Handshaking, 0)
    expect(lifecycle.to(Detached, 1)).toBe(false)
    expect(lifecycle.state).toBe(Handshaking)
    expect(lifecycle.to(Closed, 2)).toBe(true)
    expect(lifecycle.to(Open, 3)).toBe(false)
    expect(lifecycle.state).toBe(Closed)
  })

  it('says whether the connection is connected or ended in each state', () => {
    const lifecycle = new Lifecycle(Handshaking, 0)
    expect([lifecycle.isConnected, lifecycle.isEnded]).toEqual([false, false])
    lifecycle.to(Open, 1)
    expect([lifecycle.isConnected, lifecycle.isEnded]).toEqual([true, false])
    lifecycle.to(Detached, 2)
    expect([lifecycle.isConnected, lifecycle.isEnded]).toEqual([true, false])
    lifecycle.to(MovedAway, 3)
    expect([lifecycle.isConnected, lifecycle.isEnded, lifecycle.moved]).toEqual([false, true, true])
    const movingIn = new Lifecycle(MovingIn, 0)
    expect([movingIn.isConnected, movingIn.isEnded]).toEqual([true, false])
    movingIn.to(Closed, 1)
    expect([movingIn.isConnected, movingIn.isEnded]).toEqual([false, true])
  })

  it('knows since when the connection has had no transport, from the first state without one', () => {
    const lifecycle = new Lifecycle(MovingIn, 100)
    expect(lifecycle.detachedSince).toBe(100)
    lifecycle.to(Detached, 200)
    expect(lifecycle.detachedSince).toBe(100)
    lifecycle.to(Open, 300)
    expect(lifecycle.detachedSince).toBeUndefined()
    lifecycle.to(Detached, 400)
    expect(lifecycle.detachedSince).toBe(400)
  })
})
