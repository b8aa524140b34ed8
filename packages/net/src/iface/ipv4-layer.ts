import type { MemoryAccount } from '../memory.js';
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
import { checksumFold, checksumSum } from '../wire/checksum.js';
import { IPV4_HEADER_LENGTH, IpProtocolValue } from '../wire/ipv4.js';
import { type LinkFrameInfo, LinkGso, type LinkOffloads, plainFrameInfo } from './link-device.js';
import type { LinkLayer } from './link-layer.js';
import type { IpDatagram, IpLayer, IpSendOptions, IpSendResult, PayloadWriter, ProtocolHandler } from './ip-layer.js';
import { type ReassemblyLimits, Reassembler } from './reassembly.js';
import { type Route, RoutingTable } from './routes.js';
import { type LayerStats, layerStats, u64Words } from '../stat-names.js';

const DEFAULT_TTL = 64;
const FLAG_MORE_FRAGMENTS = 0x2000;
/** The fragment offset field, in 8-byte units. */
const OFFSET_MASK = 0x1fff;

/** Shared answers: no result object per datagram. */
const SENT: IpSendResult = Object.freeze({ ok: true });
const NO_ROUTE: IpSendResult = Object.freeze({ ok: false, error: 'no-route' });
const UNCONFIGURED: IpSendResult = Object.freeze({ ok: false, error: 'unconfigured' });
const QUEUE_FULL: IpSendResult = Object.freeze({ ok: false, error: 'queue-full' });
const TOO_LARGE: IpSendResult = Object.freeze({ ok: false, error: 'too-large' });

/** The `IpDatagram` handlers get: one per layer, refilled for every datagram (valid during the call). */
class ReceivedDatagram implements IpDatagram {
  source: IpAddress = IPV4_ANY;
  destination: IpAddress = IPV4_ANY;
  unicast = false;
  protocol = 0;
  ttl = 0;
  payload: Uint8Array = new Uint8Array(0);
  checksumValid = false;
  /** The whole IPv4 packet and its header's length, for the quote. */
  packet: Uint8Array = this.payload;
  headerLength = 0;

  /** The IP header and the first 8 payload bytes (made only for the ICMP errors that need it). */
  get quote(): Uint8Array {
    const total = (this.packet[2]! << 8) | this.packet[3]!;
    return this.packet.subarray(0, Math.min(this.headerLength + 8, total));
  }
}

/**
 * IPv4 (RFC 791) for one interface: checks incoming datagrams (checksum, length, destination), reassembles
 * fragments within bounds, hands them to the protocol handlers; sends through a routing table (the
 * connected subnet, a default gateway, any added routes), fragmenting what the MTU cannot carry.
 */
export class Ipv4Layer implements IpLayer {
  readonly stats: LayerStats<'ip'>;
  /** Set by `configure` and `unconfigure` (which keep `subnetBroadcast` with them). */
  address: Ipv4Address = IPV4_ANY;
  prefixLength = 0;
  /** The subnet's directed broadcast, kept by `configure` (compared with every datagram's addresses). */
  private broadcastAddress: Ipv4Address = IPV4_BROADCAST;
  private readonly routes = new RoutingTable();
  private readonly handlers = new Map<number, ProtocolHandler>();
  private readonly reassembler: Reassembler;
  private identification: number;
  /** TCP's and ICMP's handlers, looked up without the Map. */
  private tcp: ProtocolHandler | undefined;
  private icmp: ProtocolHandler | undefined;
  /** The datagram handed to handlers, refilled for each one. */
  private readonly received = new ReceivedDatagram();
  /** The offloads asked of the link for a datagram going out, refilled for each one. */
  private readonly sendInfo: LinkFrameInfo = plainFrameInfo();
  /** rx_packets and tx_packets, counted inline per packet (see `u64Words`): the words and their low words' indexes. */
  private readonly counters: Uint32Array;
  private readonly rxPacketsAt: number;
  private readonly txPacketsAt: number;
  /** Called for a datagram of a protocol nobody handles (ICMP answers protocol unreachable). */
  onUnknownProtocol: (datagram: IpDatagram) => void = () => {};

  constructor(
    private readonly link: LinkLayer,
    private readonly arp: ArpLayer,
    clock: NetClock,
    random: RandomSource,
    limits: ReassemblyLimits = {},
    memory?: MemoryAccount,
  ) {
    this.stats = layerStats(link.scope, 'ip');
    this.counters = u64Words(this.stats.rx_packets);
    this.rxPacketsAt = this.stats.rx_packets.index;
    this.txPacketsAt = this.stats.tx_packets.index;
    this.identification = random.uint32() & 0xffff;
    this.reassembler = new Reassembler(
      clock,
      limits,
      {
        timeout: () => this.stats.reassembly_timeouts.increment(),
        evicted: () => this.stats.reassembly_evicted.increment(),
      },
      memory,
    );
    link.on(EtherTypeValue.ipv4, this.receive);
  }

  on(protocol: number, handler: ProtocolHandler): void {
    this.handlers.set(protocol, handler);
    if (protocol === IpProtocolValue.tcp) this.tcp = handler;
    if (protocol === IpProtocolValue.icmp) this.icmp = handler;
  }

  /** What the link offloads (transport layers decide on checksums and segment sizes by it). */
  get offloads(): LinkOffloads {
    return this.link.offloads;
  }

  /** Whether the link tells when a batch of received frames ended (see `onBatchEnd`). */
  get batchesEnd(): boolean {
    return this.link.batchesEnd;
  }

  onBatchEnd(listener: () => void): void {
    this.link.onBatchEnd(listener);
  }

  /** Sets the address and routes: the connected subnet, and a default route through `gateway`. */
  configure(address: Ipv4Address, prefixLength: number, gateway?: Ipv4Address): void {
    this.address = address;
    this.prefixLength = prefixLength;
    this.broadcastAddress = ipv4FromNumber(address | ~prefixMask(prefixLength));
    this.routes.configure(address, prefixLength, gateway);
  }

  /** Back to no address and no routes. */
  unconfigure(): void {
    this.address = IPV4_ANY;
    this.prefixLength = 0;
    this.broadcastAddress = IPV4_BROADCAST;
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
    return this.broadcastAddress;
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

  /**
   * One datagram in. The header is read straight from the bytes into one reused `IpDatagram` (no packet
   * object, no repr, no result objects): this runs for every packet. Handlers use the datagram during
   * the call only.
   */
  private readonly receive = (bytes: Uint8Array, info: LinkFrameInfo): void => {
    const stats = this.stats;
    const counters = this.counters;
    if (++counters[this.rxPacketsAt]! === 0x100000000) counters[this.rxPacketsAt + 1]!++; // rx_packets
    const length = bytes.length;
    const first = length >= IPV4_HEADER_LENGTH ? bytes[0]! : 0;
    const headerLength = (first & 0x0f) * 4;
    const totalLength = length >= IPV4_HEADER_LENGTH ? (bytes[2]! << 8) | bytes[3]! : 0;
    if (first >> 4 !== 4 || headerLength < IPV4_HEADER_LENGTH || headerLength > totalLength || totalLength > length) {
      stats.rx_malformed.increment();
      return;
    }
    // The header's checksum is always checked: NICs vouch for TCP and UDP checksums only.
    if (checksumFold(checksumSum(bytes, 0, headerLength, 0)) !== 0) {
      stats.rx_bad_checksum.increment();
      return;
    }
    const source = (((bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!) >>> 0) as Ipv4Address;
    const destination = (((bytes[16]! << 24) | (bytes[17]! << 16) | (bytes[18]! << 8) | bytes[19]!) >>> 0) as Ipv4Address;
    const own = this.address;
    const forUs =
      destination === own ||
      destination === IPV4_BROADCAST ||
      (own !== IPV4_ANY && destination === this.broadcastAddress) ||
      own === IPV4_ANY;
    if (!forUs) {
      stats.rx_not_for_us.increment();
      return;
    }
    if (this.martian(source, destination)) {
      stats.rx_martian.increment();
      return;
    }
    const protocol = bytes[9]!;
    const flagsAndOffset = (bytes[6]! << 8) | bytes[7]!;
    let payload = bytes.subarray(headerLength, totalLength);
    let checksumValid = info.checksumValid;
    if (flagsAndOffset & (FLAG_MORE_FRAGMENTS | OFFSET_MASK)) {
      stats.fragments_rx.increment();
      const outcome = this.reassembler.add(
        source,
        destination,
        protocol,
        (bytes[4]! << 8) | bytes[5]!,
        (flagsAndOffset & OFFSET_MASK) * 8,
        (flagsAndOffset & FLAG_MORE_FRAGMENTS) !== 0,
        payload,
      );
      if (outcome.kind === 'waiting') return;
      if (outcome.kind === 'duplicate') {
        stats.fragments_duplicate.increment();
        return;
      }
      if (outcome.kind === 'dropped') {
        if (outcome.reason === 'overlap') stats.reassembly_overlaps.increment();
        else stats.reassembly_dropped.increment();
        return;
      }
      stats.reassembled.increment();
      payload = outcome.payload;
      checksumValid = false; // a NIC checks whole datagrams, not fragments
    }
    const datagram = this.received;
    datagram.source = source;
    datagram.destination = destination;
    datagram.unicast = destination === own && own !== IPV4_ANY;
    datagram.protocol = protocol;
    datagram.ttl = bytes[8]!;
    datagram.payload = payload;
    datagram.checksumValid = checksumValid;
    datagram.packet = bytes;
    datagram.headerLength = headerLength;
    const handler =
      protocol === IpProtocolValue.tcp ? this.tcp : protocol === IpProtocolValue.icmp ? this.icmp : this.handlers.get(protocol);
    if (handler) handler(datagram);
    else {
      stats.rx_unknown_protocol.increment();
      this.onUnknownProtocol(datagram);
    }
  };

  /**
   * A source address no datagram from the wire can have (RFC 1812 §5.3.7, Linux's martian sources): our
   * own (a land attack, or a spoofer hoping we answer ourselves), broadcast, multicast, loopback, and
   * 0.0.0.0 unless sent to broadcast (a DHCP client's). Answering any of them answers nobody, or us.
   */
  private martian(source: Ipv4Address, destination: Ipv4Address): boolean {
    if (source === IPV4_ANY) return destination !== IPV4_BROADCAST;
    if (this.address !== IPV4_ANY && (source === this.address || (this.prefixLength < 31 && source === this.broadcastAddress))) return true;
    const first = source >>> 24;
    return source === IPV4_BROADCAST || first === 127 || first >>> 4 === 0xe;
  }

  /** The largest transport payload one unfragmented datagram carries. */
  get maxPayload(): number {
    return this.link.mtu - IPV4_HEADER_LENGTH;
  }

  /**
   * Sends a datagram: `write` fills in `payloadLength` bytes of transport header and payload. Returns
   * whether it went out (or is waiting for ARP); errors are results, never exceptions. With
   * `checksumOffset` the NIC fills in the transport checksum (the writer left the pseudo-header's sum
   * there); with `segmentSize` a TCP payload longer than one datagram goes out whole for the NIC to cut
   * (TSO), else it is fragmented.
   */
  send(destination: IpAddress, protocol: number, payloadLength: number, write: PayloadWriter, options?: IpSendOptions): IpSendResult {
    if (typeof destination !== 'number') return NO_ROUTE; // an IPv4 layer (no call per packet)
    const own = this.address;
    const broadcast = destination === IPV4_BROADCAST || (own !== IPV4_ANY && destination === this.broadcastAddress);
    if (own === IPV4_ANY && !broadcast) return UNCONFIGURED;
    const nextHop = broadcast ? destination : this.routes.nextHop(destination);
    if (nextHop === undefined) {
      this.stats.tx_no_route.increment();
      return NO_ROUTE;
    }
    const link = this.link;
    const ttl = options === undefined ? DEFAULT_TTL : (options.ttl ?? DEFAULT_TTL);
    const header = link.headerLength;
    const offloads = link.offloads;
    const maxPayload = link.mtu - IPV4_HEADER_LENGTH;
    const segmentSize = options === undefined ? 0 : (options.segmentSize ?? 0);
    const segmented =
      segmentSize > 0 && payloadLength > maxPayload && offloads.tso4 && IPV4_HEADER_LENGTH + payloadLength <= offloads.tsoMaxBytes;
    if (payloadLength <= maxPayload || segmented) {
      const frame = link.allocate(IPV4_HEADER_LENGTH + payloadLength);
      write(frame, header + IPV4_HEADER_LENGTH, own);
      this.identification = (this.identification + 1) & 0xffff;
      // TCP asks the NIC to cut with DF set, as Linux does: no router may fragment the segments.
      this.writeHeader(
        frame,
        header,
        own,
        destination,
        protocol,
        ttl,
        payloadLength,
        segmented || options?.dontFragment === true ? 0x4000 : 0,
      );
      const counters = this.counters;
      if (++counters[this.txPacketsAt]! === 0x100000000) counters[this.txPacketsAt + 1]!++; // tx_packets
      let info: LinkFrameInfo | undefined;
      const checksumOffset = options?.checksumOffset ?? -1;
      if (checksumOffset >= 0 && offloads.checksumTx) {
        info = this.sendInfo;
        info.checksumStart = header + IPV4_HEADER_LENGTH;
        info.checksumOffset = checksumOffset;
        info.gsoType = segmented ? LinkGso.tcp4 : LinkGso.none;
        info.gsoSize = segmented ? segmentSize : 0;
        info.headerLength = segmented ? header + IPV4_HEADER_LENGTH + (options?.transportHeaderLength ?? 0) : 0;
      }
      const sent = broadcast
        ? this.link.send(frame, MAC_BROADCAST, EtherTypeValue.ipv4, info)
        : this.arp.send(frame, nextHop, EtherTypeValue.ipv4, info);
      return sent ? SENT : QUEUE_FULL;
    }
    if (options?.dontFragment || payloadLength > 65535 - IPV4_HEADER_LENGTH) return TOO_LARGE;
    const whole = new Uint8Array(payloadLength);
    write(whole, 0, own);
    // Fragments go without offloads: a checksum the writer left to the NIC is completed here.
    const partialAt = options?.checksumOffset ?? -1;
    if (partialAt >= 0 && offloads.checksumTx && partialAt + 2 <= payloadLength) {
      const sum = checksumFold(checksumSum(whole, 0, payloadLength, 0));
      whole[partialAt] = sum >> 8;
      whole[partialAt + 1] = sum & 0xff;
    }
    this.identification = (this.identification + 1) & 0xffff;
    const chunk = Math.floor(this.maxPayload / 8) * 8;
    let sent = true;
    for (let offset = 0; offset < payloadLength; offset += chunk) {
      const length = Math.min(chunk, payloadLength - offset);
      const frame = this.link.allocate(IPV4_HEADER_LENGTH + length);
      frame.set(whole.subarray(offset, offset + length), header + IPV4_HEADER_LENGTH);
      const more = offset + length < payloadLength ? FLAG_MORE_FRAGMENTS : 0;
      this.writeHeader(frame, header, own, destination, protocol, ttl, length, more | (offset >>> 3));
      this.stats.fragments_tx.increment();
      sent =
        (broadcast ? this.link.send(frame, MAC_BROADCAST, EtherTypeValue.ipv4) : this.arp.send(frame, nextHop, EtherTypeValue.ipv4)) &&
        sent;
    }
    this.stats.tx_packets.increment();
    return sent ? SENT : QUEUE_FULL;
  }

  /** A 20-byte header at `at` (emitIpv4's layout, written inline: no repr object per datagram). */
  private writeHeader(
    frame: Uint8Array,
    at: number,
    source: Ipv4Address,
    destination: Ipv4Address,
    protocol: number,
    ttl: number,
    payloadLength: number,
    flagsAndOffset: number,
  ): void {
    const totalLength = IPV4_HEADER_LENGTH + payloadLength;
    const id = this.identification;
    frame[at] = 0x45;
    frame[at + 1] = 0;
    frame[at + 2] = (totalLength >> 8) & 0xff;
    frame[at + 3] = totalLength & 0xff;
    frame[at + 4] = id >> 8;
    frame[at + 5] = id & 0xff;
    frame[at + 6] = flagsAndOffset >> 8;
    frame[at + 7] = flagsAndOffset & 0xff;
    frame[at + 8] = ttl & 0xff;
    frame[at + 9] = protocol & 0xff;
    frame[at + 10] = 0;
    frame[at + 11] = 0;
    frame[at + 12] = source >>> 24;
    frame[at + 13] = (source >>> 16) & 0xff;
    frame[at + 14] = (source >>> 8) & 0xff;
    frame[at + 15] = source & 0xff;
    frame[at + 16] = destination >>> 24;
    frame[at + 17] = (destination >>> 16) & 0xff;
    frame[at + 18] = (destination >>> 8) & 0xff;
    frame[at + 19] = destination & 0xff;
    // The header's checksum from the values just written (the sum of its 16-bit words, the checksum's
    // own zero), not summed over the bytes again: no call per datagram.
    const words =
      0x4500 +
      (totalLength & 0xffff) +
      (id & 0xffff) +
      (flagsAndOffset & 0xffff) +
      (((ttl & 0xff) << 8) | (protocol & 0xff)) +
      (source >>> 16) +
      (source & 0xffff) +
      (destination >>> 16) +
      (destination & 0xffff);
    const sum = checksumFold(words);
    frame[at + 10] = sum >> 8;
    frame[at + 11] = sum & 0xff;
  }

  close(): void {
    this.reassembler.clear();
  }
}
