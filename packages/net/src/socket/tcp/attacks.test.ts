/**
 * TCP against what an attacker found (issue 17), in virtual time over a simulated wire: scans and odd
 * flag combinations at listeners, floods that would draw a reset each, and (below) the engine's own
 * weak spots. Segments are forged by hand where no real peer would send them.
 */
import { describe, expect, it } from 'vitest';
import { ipv4Address, macFromBytes } from '../../wire/address.js';
import { EthernetPacket } from '../../wire/ethernet.js';
import { Ipv4Packet } from '../../wire/ipv4.js';
import { TcpFlag, TcpPacket, type TcpRepr } from '../../wire/tcp.js';
import { createTestNetwork, tcpFrame } from '../../test/index.js';

const ALICE = ipv4Address('10.0.0.1');
const BOB = ipv4Address('10.0.0.2');
let n = 0;

/**
 * Bob's stack, and a wire on which the test plays alice: alice's stack pings once (so bob knows her
 * MAC) and is then taken off the wire, so that nothing but the test answers bob.
 */
function network() {
  const net = createTestNetwork({ names: [`atk${n}a`, `atk${n++}b`] });
  void net.a.ping('10.0.0.2');
  net.clock.advance(10);
  net.a.close();
  const addresses = { sourceMac: macFromBytes(net.wire[0].mac), destinationMac: net.b.link.mac, source: ALICE, destination: BOB };
  /** Bob's TCP segments as alice's wire sees them. */
  const fromBob: { flags: number; sequence: number; acknowledgment: number; destinationPort: number }[] = [];
  net.wire[0].onReceive((frame) => {
    const ethernet = EthernetPacket.checked(frame);
    if (!ethernet.ok) return;
    const ip = Ipv4Packet.checked(ethernet.value.payload);
    if (!ip.ok || ip.value.protocol !== 6) return;
    const tcp = TcpPacket.checked(ip.value.payload);
    if (tcp.ok) {
      const t = tcp.value;
      fromBob.push({ flags: t.flags, sequence: t.sequence, acknowledgment: t.acknowledgment, destinationPort: t.destinationPort });
    }
  });
  /** A segment to bob as if from alice (the stack at alice never hears of it). */
  const forge = (fields: Partial<TcpRepr>): void => {
    net.wire[0].transmit(
      tcpFrame(addresses, { sourcePort: 40000, destinationPort: 80, sequence: 1000, acknowledgment: 0, flags: 0, window: 8192, ...fields }),
    );
  };
  return { net, forge, fromBob };
}

describe('TCP listeners against scans', () => {
  it('discards FIN, null and Xmas segments to a listening port, and resets them at a closed one (RFC 9293 §3.10.7)', () => {
    const { net, forge, fromBob } = network();
    net.b.tcp.listen(80, () => {});
    const probes = [TcpFlag.fin, 0, TcpFlag.fin | TcpFlag.psh | TcpFlag.urg];
    for (const flags of probes) forge({ flags, sourcePort: 40000 + flags });
    net.clock.advance(5);
    expect(fromBob).toEqual([]);
    expect(net.b.tcp.stats.listen_discarded.value).toBe(3);
    expect(net.b.tcp.connectionCount).toBe(0);
    // A closed port answers each with a reset, as RFC 9293 says (that is how a scanner tells them apart).
    for (const flags of probes) forge({ flags, destinationPort: 81, sourcePort: 41000 + flags });
    net.clock.advance(5);
    expect(fromBob.map((s) => s.flags)).toEqual([TcpFlag.rst | TcpFlag.ack, TcpFlag.rst | TcpFlag.ack, TcpFlag.rst | TcpFlag.ack]);
  });

  it('never opens a connection for SYN+FIN or SYN+FIN+PSH+URG', () => {
    const { net, forge, fromBob } = network();
    const listening = net.b.tcp.listen(80, () => {});
    if (!listening.ok) throw new Error(listening.error);
    forge({ flags: TcpFlag.syn | TcpFlag.fin, sourcePort: 40001 });
    forge({ flags: TcpFlag.syn | TcpFlag.fin | TcpFlag.psh | TcpFlag.urg, sourcePort: 40002 });
    net.clock.advance(5);
    expect(listening.listener.halfOpen).toBe(0);
    expect(net.b.tcp.connectionCount).toBe(0);
    expect(fromBob).toEqual([]);
    // A plain SYN still opens one.
    forge({ flags: TcpFlag.syn, sourcePort: 40003 });
    net.clock.advance(5);
    expect(listening.listener.halfOpen).toBe(1);
    expect(fromBob.map((s) => s.flags)).toEqual([TcpFlag.syn | TcpFlag.ack]);
  });

  it('limits the resets an ACK flood draws to 100 at once and 100 a second, and counts the rest', () => {
    const { net, forge, fromBob } = network();
    net.b.tcp.listen(80, () => {});
    net.clock.advance(2_000);
    for (let i = 0; i < 1000; i++) forge({ flags: TcpFlag.ack, sourcePort: 20000 + i, acknowledgment: i });
    net.clock.advance(5);
    expect(fromBob.length).toBe(100);
    expect(net.b.tcp.stats.resets_tx.value).toBe(100);
    expect(net.b.tcp.stats.resets_limited.value).toBe(900);
    // A second later there are tokens for 100 more.
    net.clock.advance(1_000);
    for (let i = 0; i < 200; i++) forge({ flags: TcpFlag.ack, destinationPort: 81, sourcePort: 30000 + i, acknowledgment: i });
    net.clock.advance(5);
    expect(fromBob.length).toBe(200);
  });
});
