/**
 * The clocks of one open connection that the sweeper looks at each tick: when the client was
 * last heard (the client timeout) and when the server last sent something (the keep-alive ping).
 * As ASP.NET Core's HubConnectionContext, a write only sets a flag; the tick that finds it counts
 * as the time of the send, so a busy connection costs no clock read per message.
 */
export class KeepAlive {
  private lastReceivedAt: number
  private lastSentAt: number
  private wrote = false
  private held = false

  constructor(now: number) {
    this.lastReceivedAt = this.lastSentAt = now
  }

  /** Something arrived from the client. */
  heard(now: number): void {
    this.lastReceivedAt = now
  }

  /** Something was handed to the transport. */
  written(): void {
    this.wrote = true
  }

  /**
   * The server holds back reading from the client (true) or reads again (false). While held the
   * client is not silent, we are not listening; on release its timeout starts afresh. False when
   * nothing changed.
   */
  hold(held: boolean, now: number): boolean {
    if (held === this.held) return false
    this.held = held
    if (!held) this.lastReceivedAt = now
    return true
  }

  get receivingHeld(): boolean {
    return this.held
  }

  /** The client sent nothing for `timeoutMs` while we were listening. */
  silent(now: number, timeoutMs: number): boolean {
    return !this.held && now - this.lastReceivedAt >= timeoutMs
  }

  /**
   * At a tick: true when nothing has gone out for `intervalMs` and a ping is due. A write since
   * the last tick counts as a send at this tick.
   */
  pingDue(now: number, intervalMs: number): boolean {
    if (this.wrote) {
      this.wrote = false
      this.lastSentAt = now
      return false
    }
    return now - this.lastSentAt >= intervalMs
  }

  /** A ping went out at `now`. */
  pinged(now: number): void {
    this.lastSentAt = now
    this.wrote = false
  }
}
