import type { IpAddress } from '../../wire/address.js';
import type { RandomSource } from '../../clock.js';
import type { IcmpErrors } from '../../iface/icmp-layer.js';
import type { IpDatagram, IpLayer, IpSendResult } from '../../iface/ip-layer.js';
import { IpProtocolValue } from '../../wire/ipv4.js';
import { type LayerStats, type StatScope, layerStats } from '../../stat-names.js';
import { UDP_HEADER_LENGTH, UdpPacket, emitUdp, parseUdp } from '../../wire/udp.js';

export interface UdpMessage {
  source: IpAddress;
  sourcePort: number;
  destination: IpAddress;
  /** Valid during the listener call only: copy what you keep. */
  data: Uint8Array;
}

export interface UdpSocketError {
  kind: 'unreachable';
  /** The ICMP code (for IPv4 an UnreachableCode: 3, port unreachable). */
  code: number;
  destination: IpAddress;
  port: number;
}

export type UdpSendResult = IpSendResult | { ok: false; error: 'closed' | 'message-too-large' | 'invalid-port' };
export type UdpBindResult = { ok: true; socket: UdpSocket } | { ok: false; error: 'port-in-use' | 'no-free-port' | 'invalid-port' };

const EPHEMERAL_FIRST = 49152;
const EPHEMERAL_COUNT = 65536 - EPHEMERAL_FIRST;

/** A bound UDP port. */
export class UdpSocket {
  private listener: ((message: UdpMessage) => void) | undefined;
  private errorListener: ((error: UdpSocketError) => void) | undefined;
  private open = true;

  constructor(
    private readonly layer: UdpLayer,
    readonly port: number,
  ) {}

  /** Receives datagrams sent to this port. */
  onMessage(listener: (message: UdpMessage) => void): void {
    this.listener = listener;
  }

  /**
   * Hears of datagrams from this port that did not arrive: an ICMP destination-unreachable (port
   * unreachable: nothing listens there) came back quoting one. Advisory, and spoofable like any ICMP.
   */
  onError(listener: (error: UdpSocketError) => void): void {
    this.errorListener = listener;
  }

  /** @internal */
  deliverError(error: UdpSocketError): void {
    this.errorListener?.(error);
  }

  /** @internal */
  deliver(message: UdpMessage): boolean {
    if (!this.listener) return false;
    this.listener(message);
    return true;
  }

  send(destination: IpAddress, port: number, data: Uint8Array): UdpSendResult {
    if (!this.open) return { ok: false, error: 'closed' };
    return this.layer.send(this.port, destination, port, data);
  }

  get closed(): boolean {
    return !this.open;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.layer.release(this.port);
  }
}

const NO_VERIFY = Object.freeze({ verifyChecksum: false });

/** UDP (RFC 768): sockets by port, random ephemeral ports, port-unreachable answers for closed ports. */
export class UdpLayer {
  readonly stats: LayerStats<'udp'>;
  private readonly sockets = new Map<number, UdpSocket>();

  constructor(
    private readonly ip: IpLayer,
    private readonly icmp: IcmpErrors,
    private readonly random: RandomSource,
    scope: StatScope,
  ) {
    this.stats = layerStats(scope, 'udp');
    // IP4 -> UDP
    ip.on(IpProtocolValue.udp, (datagram) => this.receive(datagram));
    // ICMP -> UDP: errors about datagrams our sockets sent
    icmp.onUnreachable((report) => {
      if (report.protocol !== IpProtocolValue.udp) return;
      this.sockets.get(report.sourcePort)?.deliverError({
        kind: 'unreachable',
        code: report.code,
        destination: report.destination,
        port: report.destinationPort,
      });
    });
  }

  /** Binds `port`, or a random free ephemeral port with 0. */
  bind(port = 0): UdpBindResult {
    if (!Number.isInteger(port) || port < 0 || port > 65535) return { ok: false, error: 'invalid-port' };
    if (port === 0) {
      // An integer, never a double: QuickJS hashes the two differently as Map keys (see ConnectionTable).
      const start = (this.random.uint32() % EPHEMERAL_COUNT) | 0;
      for (let i = 0; i < EPHEMERAL_COUNT && port === 0; i++) {
        const candidate = EPHEMERAL_FIRST + ((start + i) % EPHEMERAL_COUNT);
        if (!this.sockets.has(candidate)) port = candidate;
      }
      if (port === 0) return { ok: false, error: 'no-free-port' };
    } else if (this.sockets.has(port)) {
      return { ok: false, error: 'port-in-use' };
    }
    const socket = new UdpSocket(this, port);
    this.sockets.set(port, socket);
    this.stats.sockets.value = this.sockets.size;
    return { ok: true, socket };
  }

  /** @internal */
  release(port: number): void {
    this.sockets.delete(port);
    this.stats.sockets.value = this.sockets.size;
  }

  /** @internal */
  send(sourcePort: number, destination: IpAddress, port: number, data: Uint8Array): UdpSendResult {
    // Port 0 is no port (RFC 768: a sender that expects no answer puts 0 there): nothing is sent to it.
    if (!Number.isInteger(port) || port < 1 || port > 65535) return { ok: false, error: 'invalid-port' };
    if (data.length > 65535 - UDP_HEADER_LENGTH - 20) return { ok: false, error: 'message-too-large' };
    const length = UDP_HEADER_LENGTH + data.length;
    const result = this.ip.send(destination, IpProtocolValue.udp, length, (buffer, offset, source) => {
      buffer.set(data, offset + UDP_HEADER_LENGTH);
      emitUdp({ sourcePort, destinationPort: port }, buffer.subarray(offset, offset + length), data.length, source, destination);
    });
    if (result.ok) this.stats.datagrams_tx.increment();
    return result;
  }

  private receive(datagram: IpDatagram): void {
    const checked = UdpPacket.checked(datagram.payload);
    // A checksum the NIC vouched for is not summed again.
    const parsed = checked.ok
      ? parseUdp(checked.value, datagram.source, datagram.destination, datagram.checksumValid ? NO_VERIFY : undefined)
      : checked;
    if (!parsed.ok) {
      if (parsed.error.kind === 'checksum') this.stats.bad_checksum.increment();
      else this.stats.malformed.increment();
      return;
    }
    const udp = parsed.value;
    this.stats.datagrams_rx.increment();
    // To port 0: nobody is there. From port 0: a sender that wants no answer (RFC 768), or a forger;
    // it is delivered, but it cannot be answered (send refuses port 0) and draws no ICMP error.
    if (udp.destinationPort === 0 || (udp.sourcePort === 0 && !this.sockets.has(udp.destinationPort))) {
      this.stats.zero_port.increment();
      return;
    }
    const socket = this.sockets.get(udp.destinationPort);
    if (!socket?.deliver({ source: datagram.source, sourcePort: udp.sourcePort, destination: datagram.destination, data: udp.payload })) {
      this.stats.no_port.increment();
      this.icmp.portUnreachable(datagram);
    }
  }
}
