/**
 * The transport layers over any `IpLayer`: UDP and TCP run over a stand-in IP layer whose addresses are
 * IPv6 addresses, with no `Ipv4Layer` anywhere. What they send carries checksums over the IPv6
 * pseudo-header, what they receive is checked against it, and connections are keyed by (interned) IPv6
 * endpoints. The stack does not speak IPv6; this shows the layers above IP do not stand in its way.
 */
import { NO_LINK_OFFLOADS } from '../iface/link-device.js';
import { Statman } from '@uos/statman';
import { describe, expect, it } from 'vitest';
import { VirtualClock, seededRandom } from '../clock.js';
import type { UnreachableReport } from '../iface/icmp-layer.js';
import type { IpDatagram, IpLayer, IpSendResult, PayloadWriter, ProtocolHandler } from '../iface/ip-layer.js';
import { statScope } from '../stat-names.js';
import { type IpAddress, type Ipv6Address, ipv4Address } from '../wire/address.js';
import { IpProtocolValue } from '../wire/ipv4.js';
import { TcpFlag, TcpPacket, emitTcp, parseTcp, tcpHeaderLength } from '../wire/tcp.js';
import { UdpPacket, emitUdp, parseUdp } from '../wire/udp.js';
import { TcpLayer } from './tcp/tcp-layer.js';
import type { TcpSocket } from './tcp/tcp-socket.js';
import { UdpLayer } from './udp/udp-layer.js';

const address = (last: number): Ipv6Address => {
  const bytes = new Uint8Array(16);
  bytes.set([0x20, 0x01, 0x0d, 0xb8]);
  bytes[15] = last;
  return { version: 6, bytes };
};
const OURS = address(1);
const PEER = address(2);

/** An IP layer that hands datagrams in by hand and records what goes out. */
class StandInIp implements IpLayer {
  readonly configured = true;
  readonly maxPayload = 1440;
  readonly offloads = NO_LINK_OFFLOADS;
  readonly batchesEnd = false;
  onBatchEnd(): void {}
  onUnknownProtocol: ProtocolHandler = () => {};
  readonly sent: { destination: IpAddress; protocol: number; bytes: Uint8Array }[] = [];
  private readonly handlers = new Map<number, ProtocolHandler>();

  on(protocol: number, handler: ProtocolHandler): void {
    this.handlers.set(protocol, handler);
  }

  send(destination: IpAddress, protocol: number, payloadLength: number, write: PayloadWriter): IpSendResult {
    const bytes = new Uint8Array(payloadLength);
    write(bytes, 0, OURS);
    this.sent.push({ destination, protocol, bytes });
    return { ok: true };
  }

  sourceFor(): IpAddress {
    return OURS;
  }

  isLocal(candidate: IpAddress): boolean {
    return candidate === OURS;
  }

  deliver(protocol: number, payload: Uint8Array): void {
    const datagram: IpDatagram = {
      source: PEER,
      destination: OURS,
      unicast: true,
      protocol,
      ttl: 64,
      payload,
      quote: new Uint8Array(0),
      checksumValid: false,
    };
    this.handlers.get(protocol)!(datagram);
  }
}

const noIcmp = {
  portUnreachable: (_datagram: IpDatagram) => {},
  onUnreachable: (_listener: (report: UnreachableReport) => void) => () => {},
};

describe('the transport layers over an IP layer that is not Ipv4Layer', () => {
  it('UDP: checks and computes checksums over the IPv6 pseudo-header, and answers the IPv6 source', () => {
    const ip = new StandInIp();
    const udp = new UdpLayer(ip, noIcmp, seededRandom(1), statScope('v6u', new Statman()));
    const bound = udp.bind(5353);
    if (!bound.ok) throw new Error(bound.error);
    const got: { source: IpAddress; text: string }[] = [];
    bound.socket.onMessage((m) => got.push({ source: m.source, text: String.fromCharCode(...m.data) }));
    const datagram = new Uint8Array(8 + 5);
    datagram.set([104, 101, 108, 108, 111], 8);
    emitUdp({ sourcePort: 40000, destinationPort: 5353 }, datagram, 5, PEER, OURS);
    ip.deliver(IpProtocolValue.udp, datagram);
    expect(got).toEqual([{ source: PEER, text: 'hello' }]);
    // The checksum is the IPv6 one: against IPv4 addresses the same bytes do not verify.
    const incoming = UdpPacket.checked(datagram);
    if (!incoming.ok) throw new Error(incoming.error.detail);
    expect(incoming.value.verifyChecksum(PEER, OURS)).toBe(true);
    expect(incoming.value.verifyChecksum(ipv4Address('10.0.0.2'), ipv4Address('10.0.0.1'))).toBe(false);
    bound.socket.send(PEER, 40000, Uint8Array.of(1, 2, 3));
    const reply = ip.sent[0]!;
    expect(reply.destination).toBe(PEER);
    const packet = UdpPacket.checked(reply.bytes);
    if (!packet.ok) throw new Error(packet.error.detail);
    expect(parseUdp(packet.value, OURS, PEER)).toMatchObject({ ok: true, value: { sourcePort: 5353, destinationPort: 40000 } });
  });

  it('TCP: a handshake and data with an IPv6 peer, the connection found by its IPv6 endpoints', () => {
    const ip = new StandInIp();
    const clock = new VirtualClock();
    const tcp = new TcpLayer(ip, clock, seededRandom(2), statScope('v6t', new Statman()));
    let server: TcpSocket | undefined;
    tcp.listen(443, (socket) => {
      server = socket;
    });
    const segment = (fields: { sequence: number; acknowledgment: number; flags: number }, payload = new Uint8Array(0)) => {
      const repr = { sourcePort: 50000, destinationPort: 443, window: 65535, ...fields };
      const bytes = new Uint8Array(tcpHeaderLength(repr) + payload.length);
      bytes.set(payload, tcpHeaderLength(repr));
      emitTcp(repr, bytes, payload.length, PEER, OURS);
      ip.deliver(IpProtocolValue.tcp, bytes);
    };
    const lastSent = () => {
      const packet = TcpPacket.checked(ip.sent[ip.sent.length - 1]!.bytes);
      if (!packet.ok) throw new Error(packet.error.detail);
      const parsed = parseTcp(packet.value, OURS, PEER); // verifies the IPv6 pseudo-header checksum
      if (!parsed.ok) throw new Error(parsed.error.detail);
      return parsed.value;
    };
    segment({ sequence: 1000, acknowledgment: 0, flags: TcpFlag.syn });
    const synAck = lastSent();
    expect(synAck.flags).toBe(TcpFlag.syn | TcpFlag.ack);
    expect(synAck.acknowledgment).toBe(1001);
    segment({ sequence: 1001, acknowledgment: (synAck.sequence + 1) >>> 0, flags: TcpFlag.ack });
    expect(server?.remoteAddress).toBe(PEER);
    expect(server?.localAddress).toBe(OURS);
    const received: number[] = [];
    server!.onData((d) => received.push(...d));
    segment({ sequence: 1001, acknowledgment: (synAck.sequence + 1) >>> 0, flags: TcpFlag.ack | TcpFlag.psh }, Uint8Array.of(7, 8, 9));
    expect(received).toEqual([7, 8, 9]);
    server!.write(Uint8Array.of(42));
    expect([...lastSent().payload]).toEqual([42]);
    expect(tcp.connectionCount).toBe(1);
  });
});
