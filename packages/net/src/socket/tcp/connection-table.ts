import type { IpAddress } from '../../wire/address.js';

/** What the table needs of a connection: its two endpoints. */
export interface Endpoints {
  readonly localAddress: IpAddress;
  readonly localPort: number;
  readonly remoteAddress: IpAddress;
  readonly remotePort: number;
}

/**
 * The TCP connections of one interface by their endpoints (local address and port, remote address and
 * port), looked up for every segment that arrives. Two Map lookups and no allocation per lookup: by
 * remote address (a number for IPv4; an interned object for IPv6), then by the two ports as one number;
 * the local address is checked on the connection found (an interface has one IPv4 address, so two
 * connections that differ only in it cannot both be there; a table for several addresses per interface
 * would key on it too).
 */
/**
 * The two ports as one Map key, a signed 32-bit integer: QuickJS 2021-03-27 hashes a Map key held as an
 * integer and the same value held as a double differently, so a key must come out of one arithmetic
 * path whatever produced its ports (a port computed from a random double and one read from a packet).
 * Bitwise operators always give an integer (`* 0x10000 ... >>> 0` gave a double for remote ports from
 * 32768 on, and its arithmetic took the engine's slow paths for every segment).
 */
const portsKey = (remotePort: number, localPort: number): number => (remotePort << 16) | localPort;

export class ConnectionTable<C extends Endpoints> {
  private readonly byRemote = new Map<IpAddress, Map<number, C>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(localAddress: IpAddress, localPort: number, remoteAddress: IpAddress, remotePort: number): C | undefined {
    // portsKey inlined: this runs for every segment.
    const connection = this.byRemote.get(remoteAddress)?.get((remotePort << 16) | localPort);
    return connection !== undefined && connection.localAddress === localAddress ? connection : undefined;
  }

  /** Whether a connection holds these two ports with `remoteAddress`, whatever its local address. */
  holds(localPort: number, remoteAddress: IpAddress, remotePort: number): boolean {
    return this.byRemote.get(remoteAddress)?.has(portsKey(remotePort, localPort)) ?? false;
  }

  /** Adds `connection`; false (and nothing added) when its ports with its remote address are taken. */
  add(connection: C): boolean {
    let byPorts = this.byRemote.get(connection.remoteAddress);
    if (!byPorts) {
      byPorts = new Map();
      this.byRemote.set(connection.remoteAddress, byPorts);
    }
    const key = portsKey(connection.remotePort, connection.localPort);
    if (byPorts.has(key)) return false;
    byPorts.set(key, connection);
    this.count++;
    return true;
  }

  /** Removes `connection` if it is the one in the table. */
  delete(connection: C): boolean {
    const byPorts = this.byRemote.get(connection.remoteAddress);
    const key = portsKey(connection.remotePort, connection.localPort);
    if (byPorts?.get(key) !== connection) return false;
    byPorts.delete(key);
    if (!byPorts.size) this.byRemote.delete(connection.remoteAddress);
    this.count--;
    return true;
  }

  *values(): IterableIterator<C> {
    for (const byPorts of this.byRemote.values()) yield* byPorts.values();
  }
}
