import { IPV4_ANY, type Ipv4Address, ipv4FromNumber, prefixMask } from '../wire/address.js';

export interface Route {
  destination: Ipv4Address;
  prefixLength: number;
  /** Absent: the destination is on the link. */
  gateway?: Ipv4Address;
}

/**
 * The IPv4 routing table of one interface: the connected subnet, a default route through the gateway,
 * and any added routes; the longest prefix wins.
 */
export class RoutingTable {
  private routes: Route[] = [];

  /** The connected subnet of `address`/`prefixLength`, and a default route through `gateway`. */
  configure(address: Ipv4Address, prefixLength: number, gateway?: Ipv4Address): void {
    this.routes = [{ destination: ipv4FromNumber(address & prefixMask(prefixLength)), prefixLength }];
    if (gateway !== undefined && gateway !== IPV4_ANY) this.routes.push({ destination: IPV4_ANY, prefixLength: 0, gateway });
    this.sort();
  }

  clear(): void {
    this.lastDestination = undefined;
    this.routes = [];
  }

  add(route: Route): void {
    this.routes.push(route);
    this.sort();
  }

  get all(): readonly Route[] {
    return this.routes;
  }

  /** The default route's gateway. */
  get gateway(): Ipv4Address | undefined {
    return this.routes.find((r) => r.prefixLength === 0)?.gateway;
  }

  /** Where a datagram for `destination` goes next (the gateway, or itself on the link), or undefined. */
  nextHop(destination: Ipv4Address): Ipv4Address | undefined {
    // Most datagrams go where the one before went: answered without walking the table.
    if (destination === this.lastDestination) return this.lastNextHop;
    const routes = this.routes;
    for (let i = 0; i < routes.length; i++) {
      const route = routes[i]!;
      if ((destination & prefixMask(route.prefixLength)) >>> 0 === route.destination) {
        this.lastDestination = destination;
        this.lastNextHop = route.gateway ?? destination;
        return this.lastNextHop;
      }
    }
    return undefined;
  }

  /** The last answer of `nextHop` (forgotten whenever the table changes). */
  private lastDestination: Ipv4Address | undefined;
  private lastNextHop: Ipv4Address | undefined;

  private sort(): void {
    this.routes.sort((a, b) => b.prefixLength - a.prefixLength);
    this.lastDestination = undefined;
  }
}
