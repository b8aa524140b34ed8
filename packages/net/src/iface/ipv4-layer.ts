import {
  IPV4_ANY,
  IPV4_BROADCAST,
  type IpAddress,
  type Ipv4Address,
  MAC_BROADCAST,
  ipv4FromNumber,
  isIpv4,
  prefixMask,
} from '../wire/address.js';
import type { ArpLayer } from './arp-layer.js';
import type { NetClock, RandomSource } from '../clock.js';
import { EtherTypeValue } from '../wire/ethernet.js';
import { IPV4_HEADER_LENGTH, Ipv4Packet, emitIpv4, ipProtocolOf, parseIpv4 } from '../wire/ipv4.js';
import type { LinkLayer } from './link-layer.js';
import type { IpDatagram, IpLayer, IpSendOptions, IpSendResult, PayloadWriter, ProtocolHandler } from './ip-layer.js';
import { type ReassemblyLimits, Reassembler } from './reassembly.js';
import { type Route, RoutingTable } from './routes.js';
import { type LayerStats, layerStats } from '../stat-names.js';

const DEFAULT_TTL = 64;

/**
 * IPv4 (RFC 791) for one interface: checks incoming datagrams (checksum, length, destination), reassembles
 * fragments within bounds, hands them to the protocol handlers; sends through a routing table (the
 * connected subnet, a default gateway, any added routes), fragmenting what the MTU cannot carry.
 */
export class Ipv4Layer implements IpLayer {
  readonly stats: LayerStats<'ip'>;
  address: Ipv4Address = IPV4_ANY;
  prefixLength = 0;
  private readonly routes = new RoutingTable();
  private readonly handlers = new Map<number, ProtocolHandler>();
  private readonly reassembler: Reassembler;
  private identification: number;
  /** Called for a datagram of a protocol nobody handles (ICMP answers protocol unreachable). */
  onUnknownProtocol: (datagram: IpDatagram) => void = () => {};

  constructor(
    private readonly link: LinkLayer,
    private readonly arp: ArpLayer,
    clock: NetClock,
    random: RandomSource,
    limits: ReassemblyLimits = {},
  ) {
    this.stats = layerStats(link.scope, 'ip');
    this.identification = random.uint32() & 0xffff;
    this.reassembler = new Reassembler(clock, limits, {
      timeout: () => this.stats.reassembly_timeouts.increment(),
      evicted: () => this.stats.reassembly_evicted.increment(),
    });
    link.on(EtherTypeValue.ipv4, (_source, payload) => this.receive(payload));
  }

  on(protocol: number, handler: ProtocolHandler): void {
    this.handlers.set(protocol, handler);
  }

  /** Sets the address and routes: the connected subnet, and a default route through `gateway`. */
  configure(address: Ipv4Address, prefixLength: number, gateway?: Ipv4Address): void {
    this.address = address;
    this.prefixLength = prefixLength;
    this.routes.configure(address, prefixLength, gateway);
  }

  /** Back to no address and no routes. */
  unconfigure(): void {
    this.address = IPV4_ANY;
    this.prefixLength = 0;
    this.routes.clear();
  }

  get configured(): boolean {
    return this.address !== IPV4_ANY;
  }

  addRoute(route: Route): void {
    this.routes.add(route);
  }

  get routingTable(): readonly Route[] {
    return this.routes.all;
  }

  get gateway(): Ipv4Address | undefined {
    return this.routes.gateway;
  }

  /** The directed broadcast of our subnet. */
  get subnetBroadcast(): Ipv4Address {
    return ipv4FromNumber(this.address | ~prefixMask(this.prefixLength));
  }

  /** Where a datagram for `destination` goes next, or undefined when there is no route. */
  nextHop(destination: Ipv4Address): Ipv4Address | undefined {
    return this.routes.nextHop(destination);
  }

  sourceFor(destination: IpAddress): IpAddress | undefined {
    if (!isIpv4(destination) || !this.configured || this.routes.nextHop(destination) === undefined) return undefined;
    return this.address;
  }

  isLocal(address: IpAddress): boolean {
    return address === this.address && this.address !== IPV4_ANY;
  }

  private receive(bytes: Uint8Array): void {
    this.stats.rx_packets.increment();
    const checked = Ipv4Packet.checked(bytes);
    if (!checked.ok) {
      this.stats.rx_malformed.increment();
      return;
    }
    const packet = checked.value;
    const parsed = parseIpv4(packet);
    if (!parsed.ok) {
      if (parsed.error.kind === 'checksum') this.stats.rx_bad_checksum.increment();
      else this.stats.rx_malformed.increment();
      return;
    }
    const repr = parsed.value;
    const destination = repr.destination;
    const forUs =
      destination === this.address ||
      destination === IPV4_BROADCAST ||
      (this.address !== IPV4_ANY && destination === this.subnetBroadcast) ||
      this.address === IPV4_ANY;
    if (!forUs) {
      this.stats.rx_not_for_us.increment();
      return;
    }
    if (this.martian(repr.source, destination)) {
      this.stats.rx_martian.increment();
      return;
    }
    let payload = packet.payload;
    if (repr.moreFragments || (repr.fragmentOffset ?? 0) > 0) {
      this.stats.fragments_rx.increment();
      const outcome = this.reassembler.add(
        repr.source,
        destination,
        packet.protocol,
        repr.identification ?? 0,
        repr.fragmentOffset ?? 0,
        repr.moreFragments ?? false,
        payload,
      );
      if (outcome.kind === 'waiting') return;
      if (outcome.kind === 'duplicate') {
        this.stats.fragments_duplicate.increment();
        return;
      }
      if (outcome.kind === 'dropped') {
        if (outcome.reason === 'overlap') this.stats.reassembly_overlaps.increment();
        else this.stats.reassembly_dropped.increment();
        return;
      }
      this.stats.reassembled.increment();
      payload = outcome.payload;
    }
    const datagram: IpDatagram = {
      source: repr.source,
      destination,
      unicast: destination === this.address && destination !== IPV4_ANY,
      protocol: packet.protocol,
      ttl: repr.ttl,
      payload,
      quote: packet.bytes.subarray(0, Math.min(packet.headerLength + 8, packet.totalLength)),
    };
    const handler = this.handlers.get(packet.protocol);
    if (handler) handler(datagram);
    else {
      this.stats.rx_unknown_protocol.increment();
      this.onUnknownProtocol(datagram);
    }
  }

  /**
   * A source address no datagram from the wire can have (RFC 1812 §5.3.7, Linux's martian sources): our
   * own (a land attack, or a spoofer hoping we answer ourselves), broadcast, multicast, loopback, and
   * 0.0.0.0 unless sent to broadcast (a DHCP client's). Answering any of them answers nobody, or us.
   */
  private martian(source: Ipv4Address, destination: Ipv4Address): boolean {
    if (source === IPV4_ANY) return destination !== IPV4_BROADCAST;
    if (this.address !== IPV4_ANY && (source === this.address || (this.prefixLength < 31 && source === this.subnetBroadcast))) return true;
    const first = source >>> 24;
    return source === IPV4_BROADCAST || first === 127 || first >>> 4 === 0xe;
  }

  /** The largest transport payload one unfragmented datagram carries. */
  get maxPayload(): number {
    return this.link.mtu - IPV4_HEADER_LENGTH;
  }

  /**
   * Sends a datagram: `write` fills in `payloadLength` bytes of transport header and payload. Returns
   * whether it went out (or is waiting for ARP); errors are results, never exceptions.
   */
  send(destination: IpAddress, protocol: number, payloadLength: number, write: PayloadWriter, options: IpSendOptions = {}): IpSendResult {
    if (typeof destination !== 'number') return { ok: false, error: 'no-route' }; // an IPv4 layer (no call per packet)
    const broadcast = destination === IPV4_BROADCAST || (this.address !== IPV4_ANY && destination === this.subnetBroadcast);
    if (this.address === IPV4_ANY && !broadcast) return { ok: false, error: 'unconfigured' };
    const nextHop = broadcast ? destination : this.routes.nextHop(destination);
    if (nextHop === undefined) {
      this.stats.tx_no_route.increment();
      return { ok: false, error: 'no-route' };
    }
    const source = this.address;
    const ttl = options.ttl ?? DEFAULT_TTL;
    const protocolType = ipProtocolOf(protocol);
    const header = this.link.headerLength;
    const out = (frame: Uint8Array): boolean =>
      broadcast ? this.link.send(frame, MAC_BROADCAST, EtherTypeValue.ipv4) : this.arp.send(frame, nextHop, EtherTypeValue.ipv4);
    if (payloadLength <= this.maxPayload) {
      const frame = this.link.allocate(IPV4_HEADER_LENGTH + payloadLength);
      write(frame, header + IPV4_HEADER_LENGTH, source);
      this.identification = (this.identification + 1) & 0xffff;
      emitIpv4(
        {
          source,
          destination,
          protocol: protocolType,
          ttl,
          payloadLength,
          identification: this.identification,
          dontFragment: options.dontFragment ?? false,
        },
        frame.subarray(header),
      );
      this.stats.tx_packets.increment();
      return out(frame) ? { ok: true } : { ok: false, error: 'queue-full' };
    }
    if (options.dontFragment || payloadLength > 65535 - IPV4_HEADER_LENGTH) return { ok: false, error: 'too-large' };
    const whole = new Uint8Array(payloadLength);
    write(whole, 0, source);
    this.identification = (this.identification + 1) & 0xffff;
    const chunk = Math.floor(this.maxPayload / 8) * 8;
    let sent = true;
    for (let offset = 0; offset < payloadLength; offset += chunk) {
      const length = Math.min(chunk, payloadLength - offset);
      const frame = this.link.allocate(IPV4_HEADER_LENGTH + length);
      frame.set(whole.subarray(offset, offset + length), header + IPV4_HEADER_LENGTH);
      emitIpv4(
        {
          source,
          destination,
          protocol: protocolType,
          ttl,
          payloadLength: length,
          identification: this.identification,
          moreFragments: offset + length < payloadLength,
          fragmentOffset: offset,
        },
        frame.subarray(header),
      );
      this.stats.fragments_tx.increment();
      sent = out(frame) && sent;
    }
    this.stats.tx_packets.increment();
    return sent ? { ok: true } : { ok: false, error: 'queue-full' };
  }

  close(): void {
    this.reassembler.clear();
  }
}
