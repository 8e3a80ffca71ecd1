/**
 * Connection caps: how many sockets one client address (settings.maxConnectionsPerAddress,
 * default 64) and one user (settings.maxConnectionsPerUser, default 8) may hold at once.
 *
 * - Per address: the front door (http-server.ts) asks `admitAddress` at the WebSocket upgrade,
 *   answers HTTP 429 when it says no, and calls the returned release when the socket closes.
 * - Per user: the session layer asks `tryUser(userId, socketKey)` when a socket authenticates and
 *   calls `releaseUser(userId, socketKey)` when that socket closes. Both are idempotent per
 *   socketKey (a socket authenticating twice holds one slot; a double release frees one slot).
 *
 * Pure bookkeeping: no metrics, no I/O. The caller that refuses counts
 * chat_connections_refused_total{reason="address_cap" | "user_cap"}. Memory is bounded by the
 * open sockets (an address or user with no socket has no entry).
 */

export interface AdmissionLimits {
  /** Open sockets per client address; at least 1. */
  readonly maxConnectionsPerAddress: number;
  /** Authenticated sockets per user; at least 1. */
  readonly maxConnectionsPerUser: number;
}

/** Frees one admitted slot; calling it again does nothing. */
export type Release = () => void;

export class Admission {
  private readonly perAddress = new Map<string, number>();
  private readonly perUser = new Map<string, Set<string>>();

  readonly limits: AdmissionLimits;

  constructor(limits: AdmissionLimits) {
    const { maxConnectionsPerAddress, maxConnectionsPerUser } = limits;
    for (const [name, v] of Object.entries({ maxConnectionsPerAddress, maxConnectionsPerUser })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`Admission: ${name} must be an integer >= 1 (got ${String(v)})`);
    }
    this.limits = { maxConnectionsPerAddress, maxConnectionsPerUser };
  }

  /** Takes a slot for `address`: its release, or undefined when the address is at its cap. */
  admitAddress(address: string): Release | undefined {
    const open = this.perAddress.get(address) ?? 0;
    if (open >= this.limits.maxConnectionsPerAddress) return undefined;
    this.perAddress.set(address, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    };
  }

  /** Sockets `address` holds now. */
  addressCount(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Takes a slot for `userId` for the socket `socketKey`; false when the user is at its cap. */
  tryUser(userId: string, socketKey: string): boolean {
    const sockets = this.perUser.get(userId);
    if (sockets?.has(socketKey)) return true;
    if ((sockets?.size ?? 0) >= this.limits.maxConnectionsPerUser) return false;
    if (sockets) sockets.add(socketKey);
    else this.perUser.set(userId, new Set([socketKey]));
    return true;
  }

  /** Frees the slot of `socketKey` (no-op when it holds none). */
  releaseUser(userId: string, socketKey: string): void {
    const sockets = this.perUser.get(userId);
    if (!sockets) return;
    sockets.delete(socketKey);
    if (sockets.size === 0) this.perUser.delete(userId);
  }

  /** Authenticated sockets `userId` holds now. */
  userCount(userId: string): number {
    return this.perUser.get(userId)?.size ?? 0;
  }
}
