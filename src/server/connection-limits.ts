/**
 * How many connections one user and one client address may hold on this node. A user opening
 * tabs without end, or one address opening thousands of sockets, is refused with 429 before it
 * costs anything, and the other users keep their share.
 */
export interface ConnectionLimitsOptions {
  readonly maxConnectionsPerUser: number
  readonly maxConnectionsPerAddress: number
}

export class ConnectionLimits {
  private readonly byUser = new Map<string, number>()
  private readonly byAddress = new Map<string, number>()

  constructor(private readonly options: ConnectionLimitsOptions) {}

  /** Why a new connection of this user from this address would be refused, if it would. */
  check(userId: string | undefined, address: string | undefined): string | undefined {
    if (userId !== undefined && (this.byUser.get(userId) ?? 0) >= this.options.maxConnectionsPerUser) {
      return `This user already has ${this.options.maxConnectionsPerUser} connections on this server.`
    }
    if (address !== undefined && (this.byAddress.get(address) ?? 0) >= this.options.maxConnectionsPerAddress) {
      return `This address already has ${this.options.maxConnectionsPerAddress} connections on this server.`
    }
    return undefined
  }

  /** Counts a connection; `release` with the same arguments, once, when it ends. */
  acquire(userId: string | undefined, address: string | undefined): void {
    if (userId !== undefined) bump(this.byUser, userId, 1)
    if (address !== undefined) bump(this.byAddress, address, 1)
  }

  release(userId: string | undefined, address: string | undefined): void {
    if (userId !== undefined) bump(this.byUser, userId, -1)
    if (address !== undefined) bump(this.byAddress, address, -1)
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by
  if (next > 0) counts.set(key, next)
  else counts.delete(key)
}
